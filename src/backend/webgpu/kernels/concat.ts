// Concatenation along one axis in one dispatch (see concat.wgsl); more parts than the device binds
// at once take one dispatch per group. A part of the other compute dtype is converted first, as
// the CPU converts it.
import type { OpKernel } from '../../../tensor/backend';
import type { ElementBinding, KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { wgsl } from '../shaders';

interface Part {
  binding: ElementBinding;
  /** Words per output row this part fills. */
  chunk: number;
}

export function runConcat(ctx: KernelContext, k: OpKernel, axis: number, out: GpuBuffer): void {
  const inner = k.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = k.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const outRow = k.shape[axis] * inner;
  const temps: GpuBuffer[] = [];
  const parts: Part[] = [];
  for (const { buffer, view } of k.inputs) {
    if (view.size === 0) continue;
    const dense = ctx.dense(buffer as GpuBuffer, view, k.dtype);
    if (dense.temp) temps.push(dense.temp);
    parts.push({ binding: dense, chunk: view.shape[axis] * inner });
  }
  const perDispatch = ctx.caps.maxStorageBuffersPerStage - 1;
  let start = 0;
  for (let first = 0; first < parts.length; first += perDispatch) {
    const group = parts.slice(first, first + perDispatch);
    const width = group.reduce((sum, p) => sum + p.chunk, 0);
    dispatchGroup(ctx, group, outer, width, outRow, start, out);
    start += width;
  }
  for (const t of temps) ctx.free(t);
}

function dispatchGroup(ctx: KernelContext, parts: Part[], outer: number, width: number, outRow: number, start: number, out: GpuBuffer): void {
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get(`concat|${parts.length}`, () => {
    const pick = parts.map((_, i) => `  if (j < params.parts[${i}].x) {\n    return part${i}[params.parts[${i}].y + row * params.parts[${i}].x + j];\n  }\n  j -= params.parts[${i}].x;`);
    return wgsl('kernels/concat.wgsl', {
      WG: wg,
      PARTS: parts.length,
      PART_BINDINGS: parts.map((_, i) => `@group(0) @binding(${i + 2}) var<storage, read> part${i}: array<u32>;`).join('\n'),
      // Unreachable: the columns of the parts add up to the dispatch's width.
      PICK: [...pick, '  return 0u;'].join('\n'),
    });
  });
  const count = outer * width;
  const params = new Uint32Array(4 + 4 * parts.length);
  params.set([count, width, outRow, start]);
  parts.forEach((p, i) => params.set([p.chunk, p.binding.offset], 4 + 4 * i));
  ctx.dispatch(pipeline, params, [ctx.whole(out), ...parts.map((p) => p.binding.binding)], Math.ceil(count / wg));
}
