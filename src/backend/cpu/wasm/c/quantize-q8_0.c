// Activation rows to Q8_0 as ggml's x86 quantize_row_q8_0 does (ggml-cpu/arch/x86/quants.c), as
// quantizeQ8_0 in ops/ggml-dot.ts: per 32 values d = f16(amax / 127), codes = round-half-even of
// x * (127 / amax). Stored unpacked for SIMD loads: codes [rows * width], d as float [rows * width / 32];
// or, for the batched kernels, in groups of four rows interleaved (quantize_q8_0x4).
// And to Q8_1 as x86 quantize_row_q8_1 does, as quantizeQ8_1 there: Q8_0's codes and d, and
// s = f16(f32(amax / 127) * the sum of the codes).
#include "q0-blocks.h"

/** A block of 32 values: its codes in q (as int32) and the largest |x|. */
static inline float q8_0_block(const float* v, v128_t q[8]) {
  v128_t m = wasm_f32x4_splat(0);
  for (int i = 0; i < 32; i += 4) m = wasm_f32x4_max(m, wasm_f32x4_abs(wasm_v128_load(v + i)));
  float amax = wasm_f32x4_extract_lane(m, 0);
  for (int l = 1; l < 4; l++) {
    float e = l == 1 ? wasm_f32x4_extract_lane(m, 1) : l == 2 ? wasm_f32x4_extract_lane(m, 2) : wasm_f32x4_extract_lane(m, 3);
    if (e > amax) amax = e;
  }
  v128_t id = wasm_f32x4_splat(amax != 0 ? 127.0f / amax : 0.0f);
  for (int i = 0; i < 8; i++) q[i] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(v + 4 * i), id)));
  return amax;
}

/** The sum of a block's codes q (as int32). */
static inline int code_sum(const v128_t q[8]) {
  v128_t sum = wasm_i32x4_splat(0);
  for (int k = 0; k < 8; k++) sum = wasm_i32x4_add(sum, q[k]);
  return wasm_i32x4_extract_lane(sum, 0) + wasm_i32x4_extract_lane(sum, 1) + wasm_i32x4_extract_lane(sum, 2) + wasm_i32x4_extract_lane(sum, 3);
}

/** A block's codes q (as int32) as bytes: values 0..15 in *lo, 16..31 in *hi. */
static inline void narrow_codes(const v128_t q[8], v128_t* lo, v128_t* hi) {
  *lo = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q[0], q[1]), wasm_i16x8_narrow_i32x4(q[2], q[3]));
  *hi = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q[4], q[5]), wasm_i16x8_narrow_i32x4(q[6], q[7]));
}

EXPORT void quantize_q8_0(const float* x, int rows, int width, int8_t* codes, float* scales, int ith, int nth) {
  int nb = width / 32, first, end;
  thread_rows(rows * nb, 1, ith, nth, &first, &end);
  for (int b = first; b < end; b++) {
    v128_t q[8];
    float amax = q8_0_block(x + 32 * b, q);
    scales[b] = F16_TO_F32[f32_to_f16(amax / 127.0f)];
    v128_t lo, hi;
    narrow_codes(q, &lo, &hi);
    wasm_v128_store(codes + 32 * b, lo);
    wasm_v128_store(codes + 32 * b + 16, hi);
  }
}

/**
 * Q8_0 as quantize_q8_0, the rows in groups of four for the batched kernels (q0-blocks.h q8_0x4):
 * out[g * (width / 32) + b] is block b of rows 4g..4g+3, the rows past `rows` zero.
 */
EXPORT void quantize_q8_0x4(const float* x, int rows, int width, q8_0x4* out, int ith, int nth) {
  int nb = width / 32, first, end;
  thread_rows((rows + 3) / 4 * nb, 1, ith, nth, &first, &end);
  for (int i = first; i < end; i++) {
    int g = i / nb, b = i % nb;
    // each row's codes 0..15 and 16..31: four values (one chunk) per int32 lane
    v128_t lo[4], hi[4];
    float d[4];
    int32_t sums[4];
    for (int r = 0; r < 4; r++) {
      if (4 * g + r < rows) {
        v128_t q[8];
        float amax = q8_0_block(x + (size_t)(4 * g + r) * width + 32 * b, q);
        d[r] = F16_TO_F32[f32_to_f16(amax / 127.0f)];
        sums[r] = code_sum(q);
        narrow_codes(q, &lo[r], &hi[r]);
      } else {
        lo[r] = hi[r] = wasm_i32x4_splat(0);
        d[r] = 0;
        sums[r] = 0;
      }
    }
    transpose4(lo, out[i].codes);
    transpose4(hi, out[i].codes + 4);
    out[i].d = wasm_v128_load(d);
    out[i].sums = wasm_v128_load(sums);
  }
}

/**
 * Q8_1 for the Qx_1 kernels (c/linear-qx_1.c): codes as int16 [rows * width], which they multiply
 * with i32x4.dot_i16x8; per 32 values d and s as floats, [d, s] [rows * width / 32].
 */
EXPORT void quantize_q8_1(const float* x, int rows, int width, int16_t* codes, float* scales, int ith, int nth) {
  int nb = width / 32, first, end;
  thread_rows(rows * nb, 1, ith, nth, &first, &end);
  for (int b = first; b < end; b++) {
    v128_t q[8];
    float d = q8_0_block(x + 32 * b, q) / 127.0f;
    for (int i = 0; i < 4; i++) wasm_v128_store(codes + 32 * b + 8 * i, wasm_i16x8_narrow_i32x4(q[2 * i], q[2 * i + 1]));
    int total = code_sum(q);
    scales[2 * b] = F16_TO_F32[f32_to_f16(d)];
    scales[2 * b + 1] = F16_TO_F32[f32_to_f16(d * (float)total)];
  }
}
