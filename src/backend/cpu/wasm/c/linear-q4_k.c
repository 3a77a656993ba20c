// linear_q4_k_q8_k: Q4_K weights x Q8_K activations (q4_k.h), one output at a time: with more weight
// rows, V8 runs out of vector registers. acc and acc_min are the two lanes of a float64x2.
#include "q4_k.h"

/**
 * One weight row's super-block against the activation codes a and their sums per 32 (sums32,
 * int16 x 8): *isum = [scale_j dot_j + scale_j+1 dot_j+1 for j = 0, 2, 4, 6], *imin the same for
 * min_j * sum_j.
 */
static inline void q4_k_pairs(const uint8_t* block, const int16_t* a, v128_t sums32, v128_t* isum, v128_t* imin) {
  v128_t scales_mins = scales_mins_k4(block + 4);
  v128_t scales16 = wasm_u16x8_extend_low_u8x16(scales_mins);
  v128_t dots[8];
  v128_t nibble = wasm_i8x16_splat(0x0f);
  UNROLL for (int c = 0; c < 4; c++) {
    v128_t q0 = wasm_v128_load(block + 16 + 32 * c), q1 = wasm_v128_load(block + 32 + 32 * c);
    // (16-bit shifts: the bits crossing into the neighbouring byte are masked off)
    v128_t hi0 = wasm_v128_and(wasm_u16x8_shr(q0, 4), nibble), hi1 = wasm_v128_and(wasm_u16x8_shr(q1, 4), nibble);
    dots[2 * c] = wasm_i32x4_add(dot_u8_pairs(wasm_v128_and(q0, nibble), a + 64 * c), dot_u8_pairs(wasm_v128_and(q1, nibble), a + 64 * c + 16));
    dots[2 * c + 1] = wasm_i32x4_add(dot_u8_pairs(hi0, a + 64 * c + 32), dot_u8_pairs(hi1, a + 64 * c + 48));
    step_barrier(dots[2 * c + 1]);
  }
  v128_t scaled03 = wasm_i32x4_mul(hsum4_i32(dots[0], dots[1], dots[2], dots[3]), wasm_u32x4_extend_low_u16x8(scales16));
  v128_t scaled47 = wasm_i32x4_mul(hsum4_i32(dots[4], dots[5], dots[6], dots[7]), wasm_u32x4_extend_high_u16x8(scales16));
  *isum = wasm_i32x4_add(wasm_i32x4_shuffle(scaled03, scaled47, 0, 2, 4, 6), wasm_i32x4_shuffle(scaled03, scaled47, 1, 3, 5, 7));
  *imin = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(scales_mins), sums32);
}

/** One output: weight row w (nb super-blocks) against one activation row (codes a, scales s), rounded as gemm or as gemv. */
static inline float q4_k_row(const uint8_t* w, int nb, const int16_t* a, const q8k_scales* s, int gemm) {
  v128_t acc = wasm_f64x2_splat(0); // [acc, acc_min]
  for (int b = 0; b < nb; b++) {
    const uint8_t* block = w + (size_t)b * Q4_K_BYTES;
    v128_t isum, imin;
    q4_k_pairs(block, a + QK_K * b, q8_k_sums32(s + b), &isum, &imin);
    v128_t scale = wasm_f64x2_promote_low_f32x4(wasm_f32x4_mul(wasm_f32x4_make(f16_at(block), f16_at(block + 2), 0, 0), wasm_f32x4_splat(s[b].d)));
    if (gemm) {
      // [isum_p, imin_p] for the pairs p = 0..3
      v128_t p01 = wasm_i32x4_shuffle(isum, imin, 0, 4, 1, 5), p23 = wasm_i32x4_shuffle(isum, imin, 2, 6, 3, 7);
      acc = fma_acc_min(acc, p01, scale);
      acc = fma_acc_min(acc, wasm_i32x4_shuffle(p01, p01, 2, 3, 2, 3), scale);
      acc = fma_acc_min(acc, p23, scale);
      acc = fma_acc_min(acc, wasm_i32x4_shuffle(p23, p23, 2, 3, 2, 3), scale);
    } else {
      acc = fma_acc_min(acc, hsum4_i32(isum, imin, isum, imin), scale);
    }
  }
  return (float)wasm_f64x2_extract_lane(acc, 0) - (float)wasm_f64x2_extract_lane(acc, 1);
}

EXPORT void linear_q4_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  int gemm_rows = rows > 3 ? rows - rows % 4 : 0;
  size_t row_bytes = (size_t)nb * Q4_K_BYTES;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) out[(size_t)r * out_features + o] = q4_k_row(weight + o * row_bytes, nb, aq + (size_t)r * width, as + (size_t)r * nb, r < gemm_rows);
  }
}
