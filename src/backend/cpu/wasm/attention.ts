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

/** A batched product's operands in the heap, as c/matmul-ggml.c and c/matmul-f64.c address them. */
interface MatmulOperands {
  aBase: number;
  aBatch: number;
  aRowStride: number;
  bBase: number;
  bBatch: number;
  bKStride: number;
  bNStride: number;
  batch: number;
  m: number;
  k: number;
  n: number;
}

/**
 * A's rows must be contiguous; B is read through its strides when one of them is 1; anything else
 * is copied into the heap (scratch from `take`). Batch offsets per matrix, broadcasting included.
 */
function matmulOperands(rt: WasmRuntime, x: Operand, y: Operand, shape: readonly number[], take: (bytes: number) => number): MatmulOperands {
  const heap = rt.heap;
  const batchShape = shape.slice(0, -2);
  const m = x.view.shape[x.view.rank - 2], k = x.view.shape[x.view.rank - 1], n = y.view.shape[y.view.rank - 1];
  const batch = batchShape.reduce((p, d) => p * d, 1);
  let a = x.view.expand([...batchShape, m, k]);
  let aBase = x.buffer.heapOffset;
  if (aBase === null || a.strides[a.rank - 1] !== 1) {
    aBase = f32Address(heap, { buffer: x.buffer, view: a }, take);
    a = View.contiguous(a.shape);
  }
  let b = y.view.expand([...batchShape, k, n]);
  let bBase = y.buffer.heapOffset;
  if (bBase === null || (b.strides[b.rank - 1] !== 1 && b.strides[b.rank - 2] !== 1)) {
    bBase = f32Address(heap, { buffer: y.buffer, view: b }, take);
    b = View.contiguous(b.shape);
  }
  const aBatch = take(4 * batch), bBatch = take(4 * batch);
  heap.i32(aBatch, batch).set(batchOffsets(a, batchShape));
  heap.i32(bBatch, batch).set(batchOffsets(b, batchShape));
  return { aBase, aBatch, aRowStride: a.strides[a.rank - 2], bBase, bBatch, bKStride: b.strides[b.rank - 2], bNStride: b.strides[b.rank - 1], batch, m, k, n };
}

const operandArgs = (o: MatmulOperands) => [o.aBase, o.aBatch, o.aRowStride, o.bBase, o.bBatch, o.bKStride, o.bNStride, o.batch, o.m, o.k, o.n];

export function matmulGgmlWasm(rt: WasmRuntime, x: Operand, y: Operand, shape: readonly number[], innerPad: number, out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  return withScratch(rt.heap, (take) => {
    const o = matmulOperands(rt, x, y, shape, take);
    const L = GGML_LANES;
    const padded = Math.ceil(o.k / innerPad) * innerPad;
    // tinyBLAS takes the product when there are >= 2 rows and its k is whole vectors; else vec_dot.
    const tiny = o.m >= 2 && padded % L === 0;
    const simdEnd = Math.min(o.k, padded & ~(4 * L - 1));
    rt.run('matmul_f16_ggml', [...operandArgs(o), out.heapOffset!, L, tiny ? 1 : 0, simdEnd], o.batch * o.m * o.k * o.n);
    return true;
  });
}

/** The float mode's product (c/matmul-f64.c): the reference's float64 sums, the same bits. */
export function matmulWasm(rt: WasmRuntime, x: Operand, y: Operand, shape: readonly number[], out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  return withScratch(rt.heap, (take) => {
    const o = matmulOperands(rt, x, y, shape, take);
    const scratch = take(rt.threads * 8 * o.n);
    rt.run('matmul_f64', [...operandArgs(o), out.heapOffset!, scratch], o.batch * o.m * o.k * o.n);
    return true;
  });
}

export function softmaxGgmlWasm(rt: WasmRuntime, x: Operand, shape: readonly number[], args: SoftmaxArgs, out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  return withScratch(rt.heap, (take) => {
    const xBase = f32Address(rt.heap, x, take);
    const n = shape[shape.length - 1];
    const rowsPerMatrix = shape.length >= 2 ? shape[shape.length - 2] : 1;
    rt.run('softmax_ggml', [xBase, x.view.size / n, n, rowsPerMatrix, f32Bits(args.scale) | 0, args.causalOffset ?? -1, out.heapOffset!, GGML_LANES, GGML_SIMD === 'avx512' ? 1 : 0], 32 * x.view.size);
    return true;
  });
}

/** Element offset (from the buffer's start) of each batch's first element: an odometer over the batch dimensions. */
function batchOffsets(view: View, batchShape: readonly number[]): Int32Array {
  const count = batchShape.reduce((p, d) => p * d, 1);
  const offsets = new Int32Array(count);
  const idx = new Array<number>(batchShape.length).fill(0);
  for (let z = 0; z < count; z++) {
    let o = view.offset;
    for (let d = 0; d < batchShape.length; d++) o += idx[d] * view.strides[d];
    offsets[z] = o;
    for (let d = batchShape.length - 1; d >= 0; d--) {
      if (++idx[d] < batchShape[d]) break;
      idx[d] = 0;
    }
  }
  return offsets;
}
