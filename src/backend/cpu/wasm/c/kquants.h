// Shared by the K-quant kernels (Q2_K .. Q6_K weights x Q8_K activations).
#pragma once
#include "common.h"

#define QK_K 256

/**
 * A Q8_K activation block without its codes (block_q8_K in ggml-common.h is f32 d, int8 qs[256],
 * int16 bsums[16]). The codes are stored apart, 256 per block, as int16: the kernels multiply
 * them with i32x4.dot_i16x8, and stored wide they need no widening for every weight row.
 */
typedef struct {
  float d;
  int16_t bsums[16]; // sum of each 16 consecutive codes
} q8k_scales;

/**
 * The relaxed build's quantize_q8_k writes the codes a second time as int8, after the int16 ones:
 * the operand of relaxed SIMD's int8 dot product (the codes lie in -127..127).
 */
static inline const int8_t* q8k_codes8(const int16_t* codes, int rows, int width) { return (const int8_t*)(codes + (size_t)rows * width); }

/**
 * The eight 6-bit scales and eight 6-bit mins of a Q4_K / Q5_K super-block, packed in 12 bytes
 * as get_scale_min_k4 (ggml-quants.c) reads them:
 *   j < 4:  scale_j = s[j] & 63,                         min_j = s[j + 4] & 63
 *   j >= 4: scale_j = s[j + 4] & 15 | (s[j - 4] >> 6) << 4, min_j = s[j + 4] >> 4 | (s[j] >> 6) << 4
 * Returns bytes [scale_0 .. scale_7, min_0 .. min_7]. Reads 16 bytes from s.
 */
static inline v128_t scales_mins_k4(const uint8_t* s) {
  v128_t packed = wasm_v128_load(s);
  v128_t low = wasm_i8x16_swizzle(packed, wasm_i8x16_make(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
  v128_t low_bits = wasm_v128_or(wasm_v128_and(low, wasm_i8x16_make(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0)),
                                 wasm_v128_and(wasm_u8x16_shr(low, 4), wasm_i8x16_make(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1)));
  // indices of 16 and up select 0
  v128_t high = wasm_i8x16_swizzle(packed, wasm_i8x16_make(16, 16, 16, 16, 0, 1, 2, 3, 16, 16, 16, 16, 4, 5, 6, 7));
  return wasm_v128_or(low_bits, wasm_u8x16_shr(wasm_v128_and(high, wasm_i8x16_splat(-64)), 2));
}

/**
 * For 16 codes (q_lo: the first eight, q_hi: the last eight, as int16) with one scale (scale16,
 * in every int16 lane; scale * q must fit int16) and 16 activation codes a:
 * pairs[0] += [s(p0 + p1), s(p2 + p3), s(p4 + p5), s(p6 + p7)], pairs[1] the same for p8 .. p15,
 * p_i = q_i * a_i.
 */
static inline void add_scaled_pairs(v128_t pairs[2], v128_t q_lo, v128_t q_hi, const int16_t* a, v128_t scale16) {
  pairs[0] = wasm_i32x4_add(pairs[0], wasm_i32x4_dot_i16x8(wasm_i16x8_mul(q_lo, scale16), wasm_v128_load(a)));
  pairs[1] = wasm_i32x4_add(pairs[1], wasm_i32x4_dot_i16x8(wasm_i16x8_mul(q_hi, scale16), wasm_v128_load(a + 8)));
}

/** The sums of four consecutive values, [p0..p3, p4..p7, p8..p11, p12..p15], from add_scaled_pairs' pairs. */
static inline v128_t quad_sums(const v128_t pairs[2]) {
  return wasm_i32x4_add(wasm_i32x4_shuffle(pairs[0], pairs[1], 0, 2, 4, 6), wasm_i32x4_shuffle(pairs[0], pairs[1], 1, 3, 5, 7));
}

/** The dot product of 16 unsigned 8-bit codes q with 16 activation codes a, as four int32 pair sums. */
static inline v128_t dot_u8_pairs(v128_t q, const int16_t* a) {
  return wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(q), wasm_v128_load(a)),
                        wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(q), wasm_v128_load(a + 8)));
}

/**
 * The repacked kernels' accumulators acc and acc_min, as lanes 0 and 1 of a float64x2:
 * lane i = fmaf((float)sums[i], scales[i], lane i) for the int32 lanes 0, 1 of sums and the
 * float32 values of the float64x2 scales.
 */
static inline v128_t fma_acc_min(v128_t acc, v128_t sums, v128_t scales) {
  return fma_lanes(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(wasm_f32x4_convert_i32x4(sums)), scales), acc);
}

/** Sums of the activation codes per 32 values (bsums in pairs), as int16 x 8. */
static inline v128_t q8_k_sums32(const q8k_scales* s) {
  v128_t lo = wasm_i32x4_extadd_pairwise_i16x8(wasm_v128_load(s->bsums));
  v128_t hi = wasm_i32x4_extadd_pairwise_i16x8(wasm_v128_load(s->bsums + 8));
  return wasm_i16x8_narrow_i32x4(lo, hi);
}
