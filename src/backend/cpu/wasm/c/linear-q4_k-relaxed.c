// linear-q4_k.c with relaxed SIMD (relaxed.h) for the gemv rows (q4_k.h): the same results, bit for
// bit. The 4-bit codes are the unsigned operand of the int8 dot product against the int8 activation
// codes (q8k_codes8); the four weight rows of a pass keep their acc and acc_min as the lanes of
// two float32 vectors, fused-added with relaxed madd. The gemm rows (activation rows in groups of
// four) keep q4_k_row.
#include "q4_k.h"
#include "relaxed.h"

/** Weight rows per pass, one float32 lane each (eight, in two vectors, measured no faster). */
#define GROUP 4

/**
 * One weight row's super-block against the int8 activation codes a: four int32 lanes summing to
 * isum = sum_j scale_j dot_j (scales16: scale_j in int16 lane j).
 */
static inline v128_t q4_k_isum_lanes(const uint8_t* block, const int8_t* a, v128_t scales16) {
  v128_t nibble = wasm_i8x16_splat(0x0f);
  v128_t t[4];
  UNROLL for (int c = 0; c < 4; c++) {
    v128_t q0 = wasm_v128_load(block + 16 + 32 * c), q1 = wasm_v128_load(block + 32 + 32 * c);
    const int8_t* ac = a + 64 * c;
    // int16 lanes of sub-blocks 2c (low nibbles) and 2c + 1 (high), four products each: at most 4 * 15 * 127 = 7620
    // (16-bit shifts: the bits crossing into the neighbouring byte are masked off)
    v128_t lo = wasm_i16x8_add(dot_u8_i8_pairs(wasm_v128_and(q0, nibble), wasm_v128_load(ac)), dot_u8_i8_pairs(wasm_v128_and(q1, nibble), wasm_v128_load(ac + 16)));
    v128_t hi = wasm_i16x8_add(dot_u8_i8_pairs(wasm_v128_and(wasm_u16x8_shr(q0, 4), nibble), wasm_v128_load(ac + 32)),
                               dot_u8_i8_pairs(wasm_v128_and(wasm_u16x8_shr(q1, 4), nibble), wasm_v128_load(ac + 48)));
    // [sub-block 2c x4, sub-block 2c + 1 x4]: halves added (i64 lanes: punpck)
    t[c] = wasm_i16x8_add(wasm_i64x2_shuffle(lo, hi, 0, 2), wasm_i64x2_shuffle(lo, hi, 1, 3));
    step_barrier(t[c]);
  }
  // [sub-block j x2 for j = 0..3] and for j = 4..7 (i32 lanes: shufps), 16 products a lane: at most 30480, still int16
  v128_t u03 = wasm_i16x8_add(wasm_i32x4_shuffle(t[0], t[1], 0, 2, 4, 6), wasm_i32x4_shuffle(t[0], t[1], 1, 3, 5, 7));
  v128_t u47 = wasm_i16x8_add(wasm_i32x4_shuffle(t[2], t[3], 0, 2, 4, 6), wasm_i32x4_shuffle(t[2], t[3], 1, 3, 5, 7));
  // each lane pair times its sub-block's scale, widened: [scale_j dot_j] (punpcklwd / punpckhwd)
  v128_t scales03 = wasm_i16x8_shuffle(scales16, scales16, 0, 0, 1, 1, 2, 2, 3, 3), scales47 = wasm_i16x8_shuffle(scales16, scales16, 4, 4, 5, 5, 6, 6, 7, 7);
  return wasm_i32x4_add(wasm_i32x4_dot_i16x8(u03, scales03), wasm_i32x4_dot_i16x8(u47, scales47));
}

/** Four weight rows w at byte `at` (one super-block) against activation codes a and scales s: each row's acc and acc_min lane. */
static inline void q4_k_gemv4(const uint8_t* const* w, size_t at, const int8_t* a, const q8k_scales* s, v128_t* acc, v128_t* acc_min) {
  v128_t sums32 = q8_k_sums32(s);
  v128_t isum[4], imin[4];
  UNROLL for (int i = 0; i < 4; i++) {
    v128_t scales_mins = scales_mins_k4(w[i] + at + 4);
    isum[i] = q4_k_isum_lanes(w[i] + at, a, wasm_u16x8_extend_low_u8x16(scales_mins));
    imin[i] = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(scales_mins), sums32);
  }
  v128_t dx = wasm_f32x4_splat(s->d);
  v128_t d = wasm_f32x4_mul(wasm_f32x4_make(f16_at(w[0] + at), f16_at(w[1] + at), f16_at(w[2] + at), f16_at(w[3] + at)), dx);
  v128_t dmin = wasm_f32x4_mul(wasm_f32x4_make(f16_at(w[0] + at + 2), f16_at(w[1] + at + 2), f16_at(w[2] + at + 2), f16_at(w[3] + at + 2)), dx);
  *acc = fma_f32x4(wasm_f32x4_convert_i32x4(hsum4_i32(isum[0], isum[1], isum[2], isum[3])), d, *acc);
  *acc_min = fma_f32x4(wasm_f32x4_convert_i32x4(hsum4_i32(imin[0], imin[1], imin[2], imin[3])), dmin, *acc_min);
}

/** Four weight rows w (nb super-blocks) against one activation row (int8 codes a, scales s): the four outputs, into y. */
static void q4_k_gemv(const uint8_t* const* w, int nb, const int8_t* a, const q8k_scales* s, float* y) {
  v128_t acc = wasm_f32x4_splat(0), acc_min = wasm_f32x4_splat(0);
  for (int b = 0; b < nb; b++) q4_k_gemv4(w, (size_t)b * Q4_K_BYTES, a + QK_K * b, s + b, &acc, &acc_min);
  wasm_v128_store(y, wasm_f32x4_sub(acc, acc_min));
}

EXPORT void linear_q4_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  int gemm_rows = rows > 3 ? rows - rows % 4 : 0;
  size_t row_bytes = (size_t)nb * Q4_K_BYTES;
  const int8_t* a8 = q8k_codes8(aq, rows, width);
  thread_rows(out_features, GROUP, ith, nth, &first, &end);
  // out_features % 8 == 0 (linear.ts): every thread's rows are GROUP streams `stride` apart, as in
  // linear_q4_0_q8_0, which the hardware prefetchers follow
  int stride = (end - first) / GROUP;
  for (int o = first; o < first + stride; o++) {
    const uint8_t* w[GROUP];
    for (int i = 0; i < GROUP; i++) w[i] = weight + (size_t)(o + i * stride) * row_bytes;
    for (int r = 0; r < gemm_rows; r++) {
      for (int i = 0; i < GROUP; i++) out[(size_t)r * out_features + o + i * stride] = q4_k_row(w[i], nb, aq + (size_t)r * width, as + (size_t)r * nb, 1);
    }
    for (int r = gemm_rows; r < rows; r++) {
      float y[GROUP];
      q4_k_gemv(w, nb, a8 + (size_t)r * width, as + (size_t)r * nb, y);
      for (int i = 0; i < GROUP; i++) out[(size_t)r * out_features + o + i * stride] = y[i];
    }
  }
}
