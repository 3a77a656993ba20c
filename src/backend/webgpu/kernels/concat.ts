// Concatenation along one axis: one copy dispatch per input (see concat.wgsl); a part of the other
// compute dtype is converted first, as the CPU converts it.
import type { OpKernel } from '../../../tensor/backend';
import type { KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { wgsl } from '../shaders';

export function runConcat(ctx: KernelContext, k: OpKernel, axis: number, out: GpuBuffer): void {
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get('concat', () => wgsl('kernels/concat.wgsl', { WG: wg }));
  const inner = k.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outRow = k.shape[axis] * inner;
  let along = 0;
  for (const { buffer, view } of k.inputs) {
    const chunk = view.shape[axis] * inner;
    const part = ctx.dense(buffer as GpuBuffer, view, k.dtype);
    if (view.size > 0) ctx.dispatch(pipeline, Uint32Array.of(view.size, chunk, outRow, along * inner, part.offset), [ctx.whole(out), part.binding], Math.ceil(view.size / wg));
    if (part.temp) ctx.free(part.temp);
    along += view.shape[axis];
  }
}
