// `linear` (y = x Wᵀ) on the WASM fast path. In the llama.cpp numeric mode the activations are
// quantized as ggml's CPU backend quantizes them and the integer dot products round exactly as
// the reference kernels in ops/ggml-dot.ts (and so as llama.cpp) do. Returns false where no WASM
// kernel applies; the caller then runs the reference kernel.
import type { CpuBuffer } from '../buffer';
import { f32Address, withScratch, type Operand } from './operands';
import { GGML_SIMD } from '../ops/ggml-float';
import type { KernelName, WasmRuntime, WasmSimd } from './runtime';
import { linearFloatWasm } from './linear-float';

/** How one weight type runs in one numeric mode. */
interface LinearKernel {
  /** The activation type of ggml's vec_dot for this weight (LinearArgs.activationType). */
  activation: string;
  /** Values per weight block and bytes per block (ggml-common.h). */
  blockSize: number;
  blockBytes: number;
  /** Quantizes the activation rows: (x, rows, width, codes, scales) and the bytes it needs per row. */
  quantize: { name: KernelName; codeBytes: (width: number, simd: WasmSimd) => number; scaleBytes: (width: number) => number };
  /** The dot-product kernel's name and leading arguments for `outFeatures` rows; null: none here. */
  kernel(outFeatures: number): { name: KernelName; leading: number[] } | null;
  /**
   * For `rows` activation rows, a kernel (name and leading arguments) that reads them quantized by
   * quantize_q8_0x4 (Q8_0 in groups of four rows), each weight block decoded once for every group;
   * null where it would not be faster.
   */
  batched?(outFeatures: number, rows: number): { name: KernelName; leading: number[] } | null;
}

/**
 * Activation rows from which the batched kernels pay for expanding each weight block and for the
 * padding of the last group (Q4_0, 2048 x 2048, one thread: 4-7 and 9 rows are slower, 8 and 10
 * even, 11 and more faster; Q5_0 ~1.5x at 8 and 10).
 */
const BATCHED_ROWS = 10;
/** Q8_0 blocks need no decoding, so sharing them gains less: even at 16 rows, 5-8% faster from 24 (one thread). */
const Q8_0_BATCHED_ROWS = 16;
/** Bytes of one block of a group of four rows from quantize_q8_0x4 (c/q0-blocks.h q8_0x4). */
const Q8_0X4_BYTES = 160;

const Q8_0_ACTIVATIONS = { name: 'quantize_q8_0', codeBytes: (w: number) => w, scaleBytes: (w: number) => (w / 32) * 4 } as const;
/**
 * Q8_K: int16 codes (the relaxed build: and again as int8, c/kquants.h q8k_codes8), and per 256
 * values f32 d and int16 bsums[16] (q8k_scales).
 */
const Q8_K_ACTIVATIONS = { name: 'quantize_q8_k', codeBytes: (w: number, simd: WasmSimd) => (simd === 'relaxed' ? 3 : 2) * w, scaleBytes: (w: number) => (w / 256) * 36 } as const;
/** Q8_1: int16 codes, and per 32 values f32 d and s (c/quantize-q8_0.c). */
const Q8_1_ACTIVATIONS = { name: 'quantize_q8_1', codeBytes: (w: number) => 2 * w, scaleBytes: (w: number) => (w / 32) * 8 } as const;

/** c/linear-q0-lanes.c: eight float32 lanes per row, the weight type as its first argument. */
const q0Lanes = (code: number) => () => ({ name: 'linear_q0_lanes' as const, leading: [code] });
const q0LanesBatched = (code: number, minRows = BATCHED_ROWS) => (_: number, rows: number) =>
  rows >= minRows ? { name: 'linear_q0_lanes_x4' as const, leading: [code] } : null;

const KERNELS: Record<string, LinearKernel> = {
  Q8_0: { activation: 'Q8_0', blockSize: 32, blockBytes: 34, quantize: Q8_0_ACTIVATIONS, kernel: q0Lanes(0), batched: q0LanesBatched(0, Q8_0_BATCHED_ROWS) },
  Q5_0: { activation: 'Q8_0', blockSize: 32, blockBytes: 22, quantize: Q8_0_ACTIVATIONS, kernel: q0Lanes(1), batched: q0LanesBatched(1) },
  Q4_0: {
    activation: 'Q8_0',
    blockSize: 32,
    blockBytes: 18,
    quantize: Q8_0_ACTIVATIONS,
    // ggml repacks Q4_0 rows in groups of 8 (q4_0_8x8) and accumulates each output in one lane.
    kernel: (out) => (out % 8 === 0 ? { name: 'linear_q4_0_q8_0', leading: [] } : q0Lanes(2)()),
    batched: (out, rows) => (out % 8 !== 0 ? q0LanesBatched(2)(out, rows) : rows >= BATCHED_ROWS ? { name: 'linear_q4_0_q8_0x4', leading: [] } : null),
  },
  // Only repacked (q4_K_8x8, out % 8 == 0): the reference has no other Q4_K kernel (float64 dot).
  Q4_K: { activation: 'Q8_K', blockSize: 256, blockBytes: 144, quantize: Q8_K_ACTIVATIONS, kernel: (out) => (out % 8 === 0 ? { name: 'linear_q4_k_q8_k', leading: [] } : null) },
  Q6_K: { activation: 'Q8_K', blockSize: 256, blockBytes: 210, quantize: Q8_K_ACTIVATIONS, kernel: () => ({ name: 'linear_q6_k_q8_k', leading: [] }) },
  Q5_K: { activation: 'Q8_K', blockSize: 256, blockBytes: 176, quantize: Q8_K_ACTIVATIONS, kernel: () => ({ name: 'linear_q5_k_q8_k', leading: [] }) },
  Q3_K: { activation: 'Q8_K', blockSize: 256, blockBytes: 110, quantize: Q8_K_ACTIVATIONS, kernel: () => ({ name: 'linear_q3_k_q8_k', leading: [] }) },
  Q2_K: {
    activation: 'Q8_K',
    blockSize: 256,
    blockBytes: 84,
    quantize: Q8_K_ACTIVATIONS,
    // ggml repacks Q2_K rows in groups of 8 (q2_K_8x8) on AVX-512 only
    kernel: (out) => ({ name: GGML_SIMD === 'avx512' && out % 8 === 0 ? 'linear_q2_k_repacked_q8_k' : 'linear_q2_k_q8_k', leading: [] }),
  },
  Q4_1: { activation: 'Q8_1', blockSize: 32, blockBytes: 20, quantize: Q8_1_ACTIVATIONS, kernel: () => ({ name: 'linear_qx_1_q8_1', leading: [0] }) },
  Q5_1: { activation: 'Q8_1', blockSize: 32, blockBytes: 24, quantize: Q8_1_ACTIVATIONS, kernel: () => ({ name: 'linear_qx_1_q8_1', leading: [1] }) },
};


export function linearWasm(
  rt: WasmRuntime,
  x: Operand,
  w: Operand,
  activationType: string | null,
  out: CpuBuffer,
): boolean {
  // float32 activations: the float mode, and f32 / f16 weights in the llama.cpp mode
  if (activationType === null || !KERNELS[w.buffer.dtype]) return linearFloatWasm(rt, x, w, activationType, out);
  const k = KERNELS[w.buffer.dtype];
  const [outFeatures, width] = w.view.shape;
  if (!k || activationType !== k.activation || width % k.blockSize !== 0) return false;
  if (w.buffer.heapOffset === null || out.heapOffset === null || !w.view.isDense() || w.view.offset % k.blockSize !== 0) return false;
  const kernel = k.kernel(outFeatures);
  if (!kernel) return false;
  const rows = x.view.size / width;
  const batched = k.batched?.(outFeatures, rows);
  const weight = w.buffer.heapOffset + (w.view.offset / k.blockSize) * k.blockBytes;
  return withScratch(rt.heap, (take) => {
    const xOffset = f32Address(rt.heap, x, take);
    if (batched) {
      const groups = take(Math.ceil(rows / 4) * (width / 32) * Q8_0X4_BYTES);
      rt.run('quantize_q8_0x4', [xOffset, rows, width, groups], 4 * rows * width);
      rt.run(batched.name, [...batched.leading, groups, rows, width, weight, outFeatures, out.heapOffset!], rows * width * outFeatures);
      return true;
    }
    const codes = take(rows * k.quantize.codeBytes(width, rt.simd));
    const scales = take(rows * k.quantize.scaleBytes(width));
    rt.run(k.quantize.name, [xOffset, rows, width, codes, scales], 4 * rows * width);
    rt.run(kernel.name, [...kernel.leading, codes, scales, rows, width, weight, outFeatures, out.heapOffset!], rows * width * outFeatures);
    return true;
  });
}
