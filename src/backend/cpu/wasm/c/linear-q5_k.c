// Q5_K weights x Q8_K activations, rounding as ggml_vec_dot_q5_K_q8_K (ggml-cpu/arch/x86/quants.c,
// the AVX2 path, also in AVX-512 builds), as linearQ5_K in ops/ggml-dot.ts. Per 256-value
// super-block, eight int32 lanes: lane t sums scale_j * q5 * q8 over the values 32j + 4t + u
// (j < 8, u < 4), rounded to float32 and fused-added times f32(d_x * d_w) into a float32 lane; and
// summs += f32(-d_x * dmin_w) * f32(sum_j min_j * sum_j) (fused; sum_j the sum of the q8 codes of
// sub-block j). Result hsum_float_8(lanes) + summs.
//
// Q5_K block (ggml-common.h block_q5_K, 176 bytes):
//    0  f16 d          scale of the sub-block scales
//    2  f16 dmin       scale of the sub-block mins
//    4  scales[12]     eight 6-bit scales and eight 6-bit mins (scales_mins_k4)
//   16  qh[32]         fifth bits: bit j of byte l belongs to value 32j + l
//   48  qs[128]        low 4 bits: byte 32c + l holds value 64c + l (low nibble), 64c + 32 + l (high)
//   value 32j + l = d * scale_j * q - dmin * min_j
#include "kquants.h"

#define Q5_K_BYTES 176

/** 16 copies of bit j of each byte of qh, moved to bit 4 (j a constant once unrolled). */
static inline v128_t fifth_bit(v128_t qh, int j) {
  // 16-bit shifts: the bits crossing into the neighbouring byte are masked off
  v128_t moved = j <= 4 ? wasm_i16x8_shl(qh, 4 - j) : wasm_u16x8_shr(qh, j - 4);
  return wasm_v128_and(moved, wasm_i8x16_splat(0x10));
}

/** One weight row's super-block against the activation codes a: its eight int32 lanes, 0..3 in lanes[0], 4..7 in lanes[1]. */
static inline void q5_k_lanes(const uint8_t* block, const int16_t* a, v128_t scales16, v128_t lanes[2]) {
  // pairs[h]: the halves h of each sub-block, whose values are lanes 4h .. 4h + 3
  v128_t pairs[2][2] = { { wasm_i32x4_splat(0), wasm_i32x4_splat(0) }, { wasm_i32x4_splat(0), wasm_i32x4_splat(0) } };
  uint16_t scales[8];
  wasm_v128_store(scales, scales16);
  v128_t nibble = wasm_i8x16_splat(0x0f);
  v128_t qh[2] = { wasm_v128_load(block + 16), wasm_v128_load(block + 32) };
  UNROLL for (int c = 0; c < 4; c++) {
    UNROLL for (int h = 0; h < 2; h++) {
      v128_t qs = wasm_v128_load(block + 48 + 32 * c + 16 * h);
      v128_t q_even = wasm_v128_or(wasm_v128_and(qs, nibble), fifth_bit(qh[h], 2 * c));
      v128_t q_odd = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(qs, 4), nibble), fifth_bit(qh[h], 2 * c + 1));
      add_scaled_pairs(pairs[h], wasm_u16x8_extend_low_u8x16(q_even), wasm_u16x8_extend_high_u8x16(q_even), a + 64 * c + 16 * h,
                       wasm_i16x8_splat(scales[2 * c]));
      add_scaled_pairs(pairs[h], wasm_u16x8_extend_low_u8x16(q_odd), wasm_u16x8_extend_high_u8x16(q_odd), a + 64 * c + 32 + 16 * h,
                       wasm_i16x8_splat(scales[2 * c + 1]));
      step_barrier(pairs[h][1]);
    }
  }
  lanes[0] = quad_sums(pairs[0]);
  lanes[1] = quad_sums(pairs[1]);
}

EXPORT void linear_q5_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  size_t row_bytes = (size_t)nb * Q5_K_BYTES;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) {
      v128_t acc[4] = { wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0) };
      float summs = 0;
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = weight + o * row_bytes + (size_t)b * Q5_K_BYTES;
        const q8k_scales* s = as + (size_t)r * nb + b;
        v128_t scales_mins = scales_mins_k4(block + 4);
        v128_t mins = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(scales_mins), q8_k_sums32(s));
        int imin = wasm_i32x4_extract_lane(mins, 0) + wasm_i32x4_extract_lane(mins, 1) + wasm_i32x4_extract_lane(mins, 2) + wasm_i32x4_extract_lane(mins, 3);
        summs = fma32_exact_product((double)(-s->d * f16_at(block + 2)) * (float)imin, summs);
        v128_t lanes[2];
        q5_k_lanes(block, aq + (size_t)r * width + QK_K * b, wasm_u16x8_extend_low_u8x16(scales_mins), lanes);
        v128_t dd = wasm_f32x4_splat(s->d * f16_at(block));
        fma_i32x4(&acc[0], lanes[0], dd);
        fma_i32x4(&acc[2], lanes[1], dd);
      }
      out[(size_t)r * out_features + o] = hsum_float_8_f64x2(acc) + summs;
    }
  }
}
