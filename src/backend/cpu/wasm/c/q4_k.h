// Q4_K weights x Q8_K activations, rounding as ggml's repacked q4_K_8x8 kernels
// (ggml-cpu/arch/x86/repack.cpp ggml_gemm_q4_K_8x8_q8_K for activation rows in groups of four,
// ggml_gemv_q4_K_8x8_q8_K for the rest), as linearQ4_K in ops/ggml-dot.ts. ggml repacks only when
// out_features % 8 == 0, and so this kernel runs only then.
//
// Per 256-value super-block, with dot_j = q4 . q8 over sub-block j (32 values) and sum_j the sum of
// the q8 codes there, exact integers isum = sum scale_j * dot_j and imin = sum min_j * sum_j, each
// rounded to float32, are fused-added times f32(d_w * d_x) into acc and times f32(dmin_w * d_x) into
// acc_min: gemv once per super-block, gemm once per pair of sub-blocks (j = 2p, 2p + 1). The
// result is acc - acc_min. q4_k_row: one weight row at a time (with more, V8 runs out of vector
// registers), acc and acc_min the two lanes of a float64x2.
//
// Q4_K block (ggml-common.h block_q4_K, 144 bytes):
//    0  f16 d          scale of the sub-block scales
//    2  f16 dmin       scale of the sub-block mins
//    4  scales[12]     eight 6-bit scales and eight 6-bit mins (scales_mins_k4)
//   16  qs[128]        4-bit codes: byte 32c + l holds value 64c + l (low nibble), 64c + 32 + l (high)
//   value 32j + l = d * scale_j * q - dmin * min_j
#pragma once
#include "kquants.h"

#define Q4_K_BYTES 144

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
