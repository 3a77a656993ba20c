// `linear` (y = x Wᵀ) on the WASM fast path where the activations stay float32:
// - the float numeric mode (activationType null), every weight type (c/linear-float.c): within
//   10 u sum |d code x| of the reference's float64 sum, u = 2^-24 (float32 partial sums per
//   32-value group, float64 across groups; test/cpu-wasm-float.test.ts);
// - the llama.cpp mode for f32 and f16 weights (c/linear-float-ggml.c): the same float32 bits as
//   GGML_LINEAR.F32 / .F16 in ops/ggml-dot.ts.
// Returns false where neither applies; the caller then runs the reference kernel.
import type { CpuBuffer } from '../buffer';
import { f32Address, withScratch, type Operand } from './operands';
import { GGML_LANES } from '../ops/ggml-float';
import type { WasmRuntime } from './runtime';

/**
 * Weight dtype -> its number in c/float-codes.h, values per block, and values per offset (the
 * activations' sums are taken over as many; 0: the type has no offsets).
 */
const FLOAT_KERNELS: Record<string, { code: number; blockSize: number; offsetValues: number }> = {
  f32: { code: 0, blockSize: 1, offsetValues: 0 },
  F16: { code: 1, blockSize: 1, offsetValues: 0 },
  BF16: { code: 2, blockSize: 1, offsetValues: 0 },
  Q4_0: { code: 3, blockSize: 32, offsetValues: 0 },
  Q4_1: { code: 4, blockSize: 32, offsetValues: 32 },
  Q5_0: { code: 5, blockSize: 32, offsetValues: 0 },
  Q5_1: { code: 6, blockSize: 32, offsetValues: 32 },
  Q8_0: { code: 7, blockSize: 32, offsetValues: 0 },
  Q2_K: { code: 8, blockSize: 256, offsetValues: 16 },
  Q3_K: { code: 9, blockSize: 256, offsetValues: 0 },
  Q4_K: { code: 10, blockSize: 256, offsetValues: 32 },
  Q5_K: { code: 11, blockSize: 256, offsetValues: 32 },
  Q6_K: { code: 12, blockSize: 256, offsetValues: 0 },
  IQ4_NL: { code: 13, blockSize: 32, offsetValues: 0 },
  IQ4_XS: { code: 14, blockSize: 256, offsetValues: 0 },
};

/** The llama.cpp mode's activation type for f32 / f16 weights (model/llama.ts ACTIVATION_TYPE). */
const GGML_ACTIVATION: Record<string, string> = { f32: 'F32', F16: 'F16' };

export function linearFloatWasm(
  rt: WasmRuntime,
  x: Operand,
  w: Operand,
  activationType: string | null,
  out: CpuBuffer,
): boolean {
  const dtype = w.buffer.dtype;
  const k = FLOAT_KERNELS[dtype];
  const ggml = activationType !== null;
  if (!k || (ggml && GGML_ACTIVATION[dtype] !== activationType)) return false;
  const [outFeatures, width] = w.view.shape;
  if (width % k.blockSize !== 0 || w.buffer.heapOffset === null || out.heapOffset === null || !w.view.isContiguous()) return false;
  const rows = x.view.size / width;
  return withScratch(rt.heap, (take) => {
    let xOffset = f32Address(rt.heap, x, take);
    const work = rows * width * outFeatures;
    if (ggml) {
      const f16 = dtype === 'F16';
      if (f16) {
        const rounded = take(4 * rows * width);
        rt.run('round_to_f16', [xOffset, rows * width, rounded], rows * width);
        xOffset = rounded;
      }
      rt.run('linear_float_ggml', [f16 ? 1 : 0, xOffset, rows, width, w.buffer.heapOffset!, outFeatures, out.heapOffset!, GGML_LANES], work);
      return true;
    }
    let sums = 0;
    if (k.offsetValues) {
      const count = (rows * width) / k.offsetValues;
      sums = take(8 * count);
      rt.run('activation_sums', [xOffset, count, k.offsetValues, sums], rows * width);
    }
    rt.run('linear_float', [k.code, xOffset, sums, rows, width, w.buffer.heapOffset!, outFeatures, out.heapOffset!], work);
    return true;
  });
}
