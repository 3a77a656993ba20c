// The attention ops on the WASM fast path: the llama.cpp numeric mode's q·Kᵀ and P·V
// (c/matmul-ggml.c) and the softmax between them (c/softmax-ggml.c), and the float mode's
// products (c/matmul-f64.c), bit-identical to the reference kernels in ops/matmul.ts and
// ops/softmax.ts. Operands are read through their views'
// strides where the kernel can (a transposed K cache, heads broadcast over a GQA group), so no
// copy is made; anything else is copied into the heap first. Returns false where no WASM kernel
// applies; the caller then runs the reference kernel.
import type { SoftmaxArgs } from '../../../tensor/ops';
import { View } from '../../../tensor/view';
import { GGML_LANES, GGML_SIMD } from '../ops/ggml-float';
import { f32Bits } from '../../../quant/half';
import type { CpuBuffer } from '../buffer';
import type { WasmRuntime } from './runtime';
import { f32Address, withScratch, type Operand } from './operands';
import { captureOf } from './capture';

/**
 * Heap room for a product's batch offsets (A's, then B's), per runtime, kept from call to call:
 * each call's kernel is over before the next call writes them.
 */
const offsetRooms = new WeakMap<WasmRuntime, { offset: number; count: number; ints: Int32Array }>();

/** An Int32Array over the heap from `offset` with room for `count` offsets (grown as needed, the view renewed when the memory grows). */
function offsetRoom(rt: WasmRuntime, count: number): Int32Array {
  let room = offsetRooms.get(rt);
  if (!room || room.count < count) {
    if (room) rt.heap.release(room.offset, 4 * room.count);
    const offset = rt.heap.allocate(4 * count);
    room = { offset, count, ints: rt.heap.i32(offset, count) };
    offsetRooms.set(rt, room);
  }
  if (room.ints.buffer !== rt.heap.memory.buffer) room.ints = rt.heap.i32(room.offset, room.count);
  return room.ints;
}

/** Odometer over the batch dimensions (batchOffsets), kept between calls. */
const batchIndex: number[] = [];

/**
 * Writes the element offset (from its buffer's start) of the first element of each of the
 * `count` batches of `view`, broadcast to the batch dimensions shape[0..rank) (leading dimensions
 * added, size-1 ones repeated), to ints[at..].
 */
function batchOffsets(view: View, shape: readonly number[], rank: number, count: number, ints: Int32Array, at: number): void {
  const lead = rank + 2 - view.rank;
  for (let d = 0; d < rank; d++) batchIndex[d] = 0;
  for (let z = 0; z < count; z++) {
    let o = view.offset;
    for (let d = Math.max(lead, 0); d < rank; d++) if (view.shape[d - lead] !== 1) o += batchIndex[d] * view.strides[d - lead];
    ints[at + z] = o;
    for (let d = rank - 1; d >= 0; d--) {
      if (++batchIndex[d] < shape[d]) break;
      batchIndex[d] = 0;
    }
  }
}

/**
 * The arguments c/matmul-ggml.c and c/matmul-f64.c take for a batched product's operands: A
 * (rows contiguous) and B (read through its strides when one of them is 1) in place, anything else
 * copied into the heap (scratch from `take`); each batch's offsets, broadcasting included.
 */
function matmulArgs(rt: WasmRuntime, x: Operand, y: Operand, shape: readonly number[], take: (bytes: number) => number): number[] {
  const rank = shape.length - 2; // batch dimensions
  const m = x.view.shape[x.view.rank - 2], k = x.view.shape[x.view.rank - 1], n = y.view.shape[y.view.rank - 1];
  let batch = 1;
  for (let d = 0; d < rank; d++) batch *= shape[d];
  let a = x.view, aBase = x.buffer.heapOffset;
  if (aBase === null || a.strides[a.rank - 1] !== 1) {
    a = a.expand([...shape.slice(0, rank), m, k]);
    aBase = f32Address(rt.heap, { buffer: x.buffer, view: a }, take);
    a = View.contiguous(a.shape);
  }
  let b = y.view, bBase = y.buffer.heapOffset;
  if (bBase === null || (b.strides[b.rank - 1] !== 1 && b.strides[b.rank - 2] !== 1)) {
    b = b.expand([...shape.slice(0, rank), k, n]);
    bBase = f32Address(rt.heap, { buffer: y.buffer, view: b }, take);
    b = View.contiguous(b.shape);
  }
  // (a captured kernel's offsets must outlive the next product's: in its own scratch)
  const offsets = captureOf(rt.heap) ? rt.heap.i32(take(8 * batch), 2 * batch) : offsetRoom(rt, 2 * batch);
  batchOffsets(a, shape, rank, batch, offsets, 0);
  batchOffsets(b, shape, rank, batch, offsets, batch);
  return [aBase, offsets.byteOffset, a.strides[a.rank - 2], bBase, offsets.byteOffset + 4 * batch, b.strides[b.rank - 2], b.strides[b.rank - 1], batch, m, k, n];
}

/** Multiply-adds of a product with matmulArgs' `args`. */
const multiplyAdds = (args: readonly number[]) => args[7] * args[8] * args[9] * args[10];

/**
 * The attention products' work for WasmRuntime.run: a float32 multiply-add here costs about four
 * of the int8 kernels' (a vector holds four float32 lanes, sixteen int8 ones), so the threads
 * share from 2^17 of them on: from 64 keys in a TinyLlama decode step, where two threads measured
 * faster (one thread and two equal at 32 keys; at 64, 20-23 -> 15-17 us a call).
 */
const F32_WORK = 4;

export function matmulGgmlWasm(rt: WasmRuntime, x: Operand, y: Operand, shape: readonly number[], innerPad: number, out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  return withScratch(rt.heap, (take) => {
    const args = matmulArgs(rt, x, y, shape, take);
    const m = args[8], k = args[9];
    const L = GGML_LANES;
    const padded = Math.ceil(k / innerPad) * innerPad;
    // tinyBLAS takes the product when there are >= 2 rows and its k is whole vectors; else vec_dot.
    const tiny = m >= 2 && padded % L === 0;
    const simdEnd = Math.min(k, padded & ~(4 * L - 1));
    args.push(out.heapOffset!, L, tiny ? 1 : 0, simdEnd);
    rt.run('matmul_f16_ggml', args, F32_WORK * multiplyAdds(args));
    return true;
  });
}

/** The float mode's product (c/matmul-f64.c): the reference's float64 sums, the same bits. */
export function matmulWasm(rt: WasmRuntime, x: Operand, y: Operand, shape: readonly number[], out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  return withScratch(rt.heap, (take) => {
    const args = matmulArgs(rt, x, y, shape, take);
    args.push(out.heapOffset!, take(rt.threads * 8 * args[10]));
    rt.run('matmul_f64', args, multiplyAdds(args));
    return true;
  });
}

/**
 * The softmax's work per element for WasmRuntime.run: ggml's expf emulated in float32 lanes costs
 * ~15 ns an element, some 500 of the int8 kernels' multiply-adds; so the threads share it from
 * ~1000 elements on (TinyLlama decoding over 256 keys: 8192 a call, 120 us on one thread).
 */
const EXPF_WORK = 512;

export function softmaxGgmlWasm(rt: WasmRuntime, x: Operand, shape: readonly number[], args: SoftmaxArgs, out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  return withScratch(rt.heap, (take) => {
    const xBase = f32Address(rt.heap, x, take);
    const n = shape[shape.length - 1];
    const rowsPerMatrix = shape.length >= 2 ? shape[shape.length - 2] : 1;
    rt.run('softmax_ggml', [xBase, x.view.size / n, n, rowsPerMatrix, f32Bits(args.scale) | 0, args.causalOffset ?? -1, out.heapOffset!, GGML_LANES, GGML_SIMD === 'avx512' ? 1 : 0], EXPF_WORK * x.view.size);
    return true;
  });
}
