// Softmax over the last axis with optional scale and causal mask (see softmax.wgsl). `ggml` (the
// CPU's bit-level emulation of ggml's vectorized expf) does not apply: the GPU computes the same
// values to float32 rounding.
import type { OpKernel } from '../../../tensor/backend';
import type { SoftmaxArgs } from '../../../tensor/ops';
import type { KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { wgsl } from '../shaders';
import { reductionTemplate } from './reductions';
import { f32Bits } from './bits';

export function runSoftmax(ctx: KernelContext, k: OpKernel, args: SoftmaxArgs, out: GpuBuffer): void {
  const { buffer, view } = k.inputs[0];
  const width = view.shape[view.rank - 1] ?? 1;
  const rowsPerMatrix = view.rank >= 2 ? view.shape[view.rank - 2] : 1;
  const rows = view.size / Math.max(width, 1);
  const x = ctx.dense(buffer as GpuBuffer, view, 'f32');
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get(`softmax|${ctx.caps.subgroups}`, () => {
    const r = reductionTemplate(ctx.caps, wg);
    return wgsl('kernels/softmax.wgsl', { WG: wg, ...r.values }, r.prelude);
  });
  const causal = args.causalOffset !== null;
  const params = Uint32Array.of(rows, width, rowsPerMatrix, x.offset, f32Bits(args.scale), causal ? 1 : 0, causal ? args.causalOffset! | 0 : 0);
  if (view.size > 0) ctx.dispatch(pipeline, params, [ctx.whole(out), x.binding], rows);
  if (x.temp) ctx.free(x.temp);
}
