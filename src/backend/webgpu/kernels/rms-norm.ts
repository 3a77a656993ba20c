// RMS normalization over the last axis (see rms-norm.wgsl).
import type { OpKernel } from '../../../tensor/backend';
import type { KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { wgsl } from '../shaders';
import { reductionTemplate } from './reductions';
import { f32Bits } from './bits';

export function runRmsNorm(ctx: KernelContext, k: OpKernel, eps: number, out: GpuBuffer): void {
  const { buffer, view } = k.inputs[0];
  const width = view.shape[view.rank - 1];
  const rows = view.size / Math.max(width, 1);
  const x = ctx.dense(buffer as GpuBuffer, view, 'f32');
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get(`rmsNorm|${ctx.caps.subgroups}`, () => {
    const r = reductionTemplate(ctx.caps, wg);
    return wgsl('kernels/rms-norm.wgsl', { WG: wg, ...r.values }, r.prelude);
  });
  if (view.size > 0) ctx.dispatch(pipeline, Uint32Array.of(rows, width, x.offset, f32Bits(eps)), [ctx.whole(out), x.binding], rows);
  if (x.temp) ctx.free(x.temp);
}
