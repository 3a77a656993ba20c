// RoPE on the WASM fast path (c/rope.c): the angles from the reference's rope cache (ops/rope.ts,
// ggml's float32 recurrence and glibc's sincosf), the rotation with exact fmaf — the same bits.
import type { RopeArgs } from '../../../tensor/ops';
import { ropeAngles } from '../ops/rope';
import type { CpuBuffer } from '../buffer';
import type { WasmRuntime } from './runtime';
import { f32Address, withScratch, type Operand } from './operands';
import { computedInJavaScript } from './capture';

/** x: [..., tokens, heads, headDim]; positions: one per token. */
export function ropeWasm(rt: WasmRuntime, x: Operand, positions: Int32Array, shape: readonly number[], args: RopeArgs, out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  const [tokens, heads, headDim] = shape.slice(-3);
  const size = x.view.size;
  return withScratch(rt.heap, (take) => {
    const angles = take(4 * tokens * args.dims);
    computedInJavaScript(rt.heap, "RoPE's angles from the positions");
    const table = rt.heap.f32(angles, tokens * args.dims);
    for (let t = 0; t < tokens; t++) table.set(ropeAngles(positions[t], args), t * args.dims);
    const rows = size / (heads * headDim);
    rt.run('rope_f32', [f32Address(rt.heap, x, take), rows, tokens, heads, headDim, args.dims, args.mode === 'neox' ? 1 : 0, angles, out.heapOffset!], 8 * size);
    return true;
  });
}
