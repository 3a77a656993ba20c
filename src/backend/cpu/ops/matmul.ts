// Batched f32 matrix product [..., m, k] x [..., k, n] with inputs already broadcast to the same
// batch shape and made contiguous. i-k-j order: rows of b stream through cache.
//
// With `ggml` (llama.cpp emulation of the attention products q·K and P·V, whose operands hold f16
// values) each dot product rounds as ggml's CPU mul_mat of f16 by f16 does (ggml-cpu/ggml-cpu.c
// ggml_compute_forward_mul_mat): for m >= 2 rows llamafile's tinyBLAS (llamafile/sgemm.cpp,
// tinyBLAS::gemm_bloc) accumulates GGML_LANES float32 FMA lanes over k and sums them with hsum;
// for one row ggml_vec_dot_f16 (vec.cpp) uses four such accumulators over each GGML_F16_STEP
// (4 x lanes) values, reduces them (GGML_F16_VEC_REDUCE) and adds the leftovers in float64.
// `innerPad`: llama.cpp's inner dimension is k zero-padded to a multiple of this (the KV cache's
// n_kv for P·V), which decides which products the SIMD loop takes; the zeros add nothing.
import { GGML_LANES, tinyBlasDot, vecDot } from './ggml-float';

// module-level copies for the hot loop (under tsx an imported binding is a getter call per use)
const [tinyDot, vec] = [tinyBlasDot, vecDot];

export function matmul(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, out: Float32Array, ggml?: { innerPad: number } | null): void {
  if (ggml) return matmulGgml(a, b, batch, m, k, n, out, ggml.innerPad);
  const row = new Float64Array(n);
  for (let z = 0; z < batch; z++) {
    const A = z * m * k;
    const B = z * k * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a[A + i * k + p];
        if (av === 0) continue;
        const bRow = B + p * n;
        for (let j = 0; j < n; j++) row[j] += av * b[bRow + j];
      }
      out.set(row, z * m * n + i * n);
    }
  }
}

function matmulGgml(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, out: Float32Array, innerPad: number): void {
  const L = GGML_LANES;
  const padded = Math.ceil(k / innerPad) * innerPad;
  // tinyBLAS takes the product when there are >= 2 rows and its k is whole vectors; else vec_dot.
  const tiny = m >= 2 && padded % L === 0;
  const simdEnd = Math.min(k, padded & ~(4 * L - 1));
  const lanes = new Float64Array(4 * L);
  for (let z = 0; z < batch; z++) {
    const A = z * m * k;
    const B = z * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        out[z * m * n + i * n + j] = tiny
          ? tinyDot(a, A + i * k, b, B + j, n, k, true, lanes)
          : vec(a, A + i * k, b, B + j, n, k, simdEnd, true, lanes);
      }
    }
  }
}
