// Activation rows to Q8_K as ggml's reference quantize_row_q8_K_ref does (ggml-quants.c; x86's
// quantize_row_q8_K calls it), as quantizeQ8K in ops/ggml-dot.ts (the Q8_K codec in
// quant/kquants.ts): per 256 values, max = the value of largest magnitude (the first one on ties),
// iscale = -127 / max, codes = min(127, nearest_int(iscale * x)) (round half to even),
// d = 1 / iscale, bsums = the sums of each 16 codes. An all-zero block is all zeros.
// Stored apart for vector loads: codes as int16 [rows * width] (and in the relaxed build once more
// as int8 [rows * width], q8k_codes8), q8k_scales (d, bsums) [rows * width / 256].
#include "kquants.h"

EXPORT void quantize_q8_k(const float* x, int rows, int width, int16_t* codes, q8k_scales* scales, int ith, int nth) {
  int first, end;
  thread_rows(rows * (width / QK_K), 1, ith, nth, &first, &end);
  for (int b = first; b < end; b++) {
    const float* v = x + (size_t)QK_K * b;
    int16_t* q = codes + (size_t)QK_K * b;
#ifdef __wasm_relaxed_simd__
    int8_t* q8 = (int8_t*)q8k_codes8(codes, rows, width) + (size_t)QK_K * b;
#endif
    q8k_scales* s = scales + b;
    // pmax keeps its first operand unless the second is larger: NaNs are passed over, as in C
    v128_t m = wasm_f32x4_splat(0);
    for (int i = 0; i < QK_K; i += 4) m = wasm_f32x4_pmax(m, wasm_f32x4_abs(wasm_v128_load(v + i)));
    m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
    m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
    float amax = wasm_f32x4_extract_lane(m, 0);
    if (amax == 0) {
      for (int i = 0; i < QK_K; i += 8) wasm_v128_store(q + i, wasm_i16x8_splat(0));
#ifdef __wasm_relaxed_simd__
      for (int i = 0; i < QK_K; i += 16) wasm_v128_store(q8 + i, wasm_i8x16_splat(0));
#endif
      s->d = 0;
      for (int j = 0; j < 16; j++) s->bsums[j] = 0;
      continue;
    }
    int at = 0;
    while (__builtin_fabsf(v[at]) != amax) at++;
    float iscale = -127.0f / v[at];
    v128_t vscale = wasm_f32x4_splat(iscale);
    for (int j = 0; j < 16; j++) {
      v128_t c[4];
      for (int i = 0; i < 4; i++) {
        v128_t scaled = wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(v + 16 * j + 4 * i), vscale));
        c[i] = wasm_i32x4_min(wasm_i32x4_trunc_sat_f32x4(scaled), wasm_i32x4_splat(127));
      }
      v128_t lo = wasm_i16x8_narrow_i32x4(c[0], c[1]), hi = wasm_i16x8_narrow_i32x4(c[2], c[3]);
      wasm_v128_store(q + 16 * j, lo);
      wasm_v128_store(q + 16 * j + 8, hi);
#ifdef __wasm_relaxed_simd__
      wasm_v128_store(q8 + 16 * j, wasm_i8x16_narrow_i16x8(lo, hi));
#endif
      v128_t sum = wasm_i32x4_add(wasm_i32x4_add(c[0], c[1]), wasm_i32x4_add(c[2], c[3]));
      s->bsums[j] = (int16_t)(wasm_i32x4_extract_lane(sum, 0) + wasm_i32x4_extract_lane(sum, 1) + wasm_i32x4_extract_lane(sum, 2) +
                              wasm_i32x4_extract_lane(sum, 3));
    }
    s->d = 1.0f / iscale;
  }
}
