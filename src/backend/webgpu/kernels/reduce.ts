// Reductions along one axis (see reduce.wgsl for the two strategies).
import type { OpKernel } from '../../../tensor/backend';
import type { ReduceOp } from '../../../tensor/ops';
import type { KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { wgsl } from '../shaders';
import { reductionTemplate } from './reductions';

const OP_CODES: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2, argmax: 3 };
/** Rows at least this long get a workgroup each; shorter ones a thread. */
const ROW_MODE_MIN_LENGTH = 64;

export function runReduce(ctx: KernelContext, k: OpKernel, op: ReduceOp, axis: number, out: GpuBuffer): void {
  const { buffer, view } = k.inputs[0];
  const shape = view.shape;
  const len = shape[axis];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const x = ctx.dense(buffer as GpuBuffer, view);
  const rows = inner === 1 && len >= ROW_MODE_MIN_LENGTH;
  const wg = ctx.caps.workgroupSize;
  const inType = buffer.dtype;
  const outType = k.dtype;
  const pipeline = ctx.pipelines.get(`reduce|${op}|${rows}|${inType}|${outType}|${ctx.caps.subgroups}`, () => {
    const r = reductionTemplate(ctx.caps, wg);
    return wgsl('kernels/reduce.wgsl', { WG: wg, OP: OP_CODES[op], ROWS: rows, IN_TYPE: inType, OUT_TYPE: outType, ...r.values }, r.prelude);
  });
  if (len > 0 && outer * inner > 0) {
    ctx.dispatch(pipeline, Uint32Array.of(outer, len, inner, x.offset), [ctx.whole(out), x.binding], rows ? outer : Math.ceil((outer * inner) / wg));
  }
  if (x.temp) ctx.free(x.temp);
}
