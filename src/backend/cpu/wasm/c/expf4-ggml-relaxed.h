// ggml_v_expf four lanes at a time with real FMA (relaxed.h), as ggml's AVX2 / AVX-512 code
// computes it: shared by the relaxed SiLU and softmax kernels. Lanes whose exponent leaves the
// normal range go to the scalar v_expf (expf-ggml.h), which handles overflow, underflow and
// subnormal results.
#pragma once
#include "expf-ggml.h"
#include "relaxed.h"

/** ggml_v_expf of four lanes, or 0 in *in_range when some lane needs the scalar form. */
static inline v128_t v_expf4(v128_t x, int avx512, int* in_range) {
  v128_t n = wasm_f32x4_sub(fma_f32x4(x, wasm_f32x4_splat(0x1.715476p+0f), wasm_f32x4_splat(0x1.8p23f)), wasm_f32x4_splat(0x1.8p23f));
  v128_t minus_n = wasm_f32x4_neg(n);
  v128_t b = fma_f32x4(minus_n, wasm_f32x4_splat(0x1.7f7d1cp-20f), fma_f32x4(minus_n, wasm_f32x4_splat(0x1.62e4p-1f), x));
  v128_t u = wasm_f32x4_mul(b, b);
  v128_t hi = fma_f32x4(fma_f32x4(wasm_f32x4_splat(0x1.0e4020p-7f), b, wasm_f32x4_splat(0x1.573e2ep-5f)), u,
                        fma_f32x4(wasm_f32x4_splat(0x1.555e66p-3f), b, wasm_f32x4_splat(0x1.fffdb6p-2f)));
  // |n| <= 125: 2^n and every result (the polynomial is at least 1/sqrt(2)) are normal floats
  *in_range = wasm_i32x4_all_true(wasm_f32x4_le(wasm_f32x4_abs(n), wasm_f32x4_splat(125)));
  v128_t k = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  if (avx512) return wasm_f32x4_mul(fma_f32x4(hi, u, fma_f32x4(wasm_f32x4_splat(0x1.ffffecp-1f), b, wasm_f32x4_splat(1))), k);
  v128_t j = fma_f32x4(hi, u, wasm_f32x4_mul(wasm_f32x4_splat(0x1.ffffecp-1f), b));
  return fma_f32x4(j, k, k);
}
