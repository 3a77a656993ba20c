// The attention ops of the llama.cpp numeric mode on the WASM fast path: q·Kᵀ and P·V
// (c/matmul-ggml.c) and the softmax between them (c/softmax-ggml.c), bit-identical to the
// reference kernels in ops/matmul.ts and ops/softmax.ts. Operands are read through their views'
// strides where the kernel can (a transposed K cache, heads broadcast over a GQA group), so no
// copy is made; anything else is copied into the heap first. Returns false where no WASM kernel
// applies; the caller then runs the reference kernel.
import type { SoftmaxArgs } from '../../../tensor/ops';
import { View } from '../../../tensor/view';
import { GGML_LANES, GGML_SIMD } from '../ops/ggml-float';
import { f32Bits } from '../../../quant/half';
import { materialize, type CpuBuffer } from '../buffer';
import type { WasmRuntime } from './runtime';

type Operand = { buffer: CpuBuffer; view: View };

export function matmulGgmlWasm(rt: WasmRuntime, x: Operand, y: Operand, shape: readonly number[], innerPad: number, out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  const heap = rt.heap;
  const batchShape = shape.slice(0, -2);
  const m = x.view.shape[x.view.rank - 2], k = x.view.shape[x.view.rank - 1], n = y.view.shape[y.view.rank - 1];
  const batch = batchShape.reduce((p, d) => p * d, 1);
  const temps: [number, number][] = [];
  const temp = (bytes: number) => {
    const offset = heap.allocate(bytes);
    temps.push([offset, bytes]);
    return offset;
  };
  try {
    let a = x.view.expand([...batchShape, m, k]);
    let aBase = x.buffer.heapOffset;
    if (aBase === null || a.strides[a.rank - 1] !== 1) {
      aBase = copyToHeap(temp, rt, x.buffer, a);
      a = View.contiguous(a.shape);
    }
    let b = y.view.expand([...batchShape, k, n]);
    let bBase = y.buffer.heapOffset;
    if (bBase === null || (b.strides[b.rank - 1] !== 1 && b.strides[b.rank - 2] !== 1)) {
      bBase = copyToHeap(temp, rt, y.buffer, b);
      b = View.contiguous(b.shape);
    }
    const aBatch = temp(4 * batch), bBatch = temp(4 * batch);
    heap.i32(aBatch, batch).set(batchOffsets(a, batchShape));
    heap.i32(bBatch, batch).set(batchOffsets(b, batchShape));
    const L = GGML_LANES;
    const padded = Math.ceil(k / innerPad) * innerPad;
    // tinyBLAS takes the product when there are >= 2 rows and its k is whole vectors; else vec_dot.
    const tiny = m >= 2 && padded % L === 0;
    const simdEnd = Math.min(k, padded & ~(4 * L - 1));
    const scratch = temp(rt.threads * 4 * L * n * 4);
    rt.run('matmul_f16_ggml', [
      aBase, aBatch, a.strides[a.rank - 2],
      bBase, bBatch, b.strides[b.rank - 2], b.strides[b.rank - 1],
      batch, m, k, n, out.heapOffset, L, tiny ? 1 : 0, simdEnd, scratch,
    ], batch * m * k * n);
    return true;
  } finally {
    for (const [offset, bytes] of temps) heap.release(offset, bytes);
  }
}

export function softmaxGgmlWasm(rt: WasmRuntime, x: Operand, shape: readonly number[], args: SoftmaxArgs, out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  const heap = rt.heap;
  let xBase = x.buffer.heapOffset;
  let copied: [number, number] | null = null;
  if (xBase === null || !x.view.isContiguous()) {
    copied = [heap.allocate(4 * x.view.size), 4 * x.view.size];
    heap.f32(copied[0], x.view.size).set(materialize(x.buffer.data as Float32Array, x.view));
    xBase = copied[0];
  } else xBase += 4 * x.view.offset;
  try {
    const n = shape[shape.length - 1];
    const rowsPerMatrix = shape.length >= 2 ? shape[shape.length - 2] : 1;
    rt.run('softmax_ggml', [xBase, x.view.size / n, n, rowsPerMatrix, f32Bits(args.scale) | 0, args.causalOffset ?? -1, out.heapOffset, GGML_LANES, GGML_SIMD === 'avx512' ? 1 : 0], 32 * x.view.size);
    return true;
  } finally {
    if (copied) heap.release(copied[0], copied[1]);
  }
}

/** Byte offset in the heap of a row-major copy of `view` over `buffer`. */
function copyToHeap(temp: (bytes: number) => number, rt: WasmRuntime, buffer: CpuBuffer, view: View): number {
  const offset = temp(4 * view.size);
  rt.heap.f32(offset, view.size).set(materialize(buffer.data as Float32Array, view));
  return offset;
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
