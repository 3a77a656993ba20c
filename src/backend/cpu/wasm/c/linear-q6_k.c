// linear_q6_k_q8_k: Q6_K weights x Q8_K activations (q6_k.h), one weight row at a time: with more,
// V8 runs out of vector registers.
#include "q6_k.h"

/** One weight row's super-block against the activation codes a: its eight int32 lanes, 0..3 in lanes[0], 4..7 in lanes[1]. */
static inline void q6_k_lanes(const uint8_t* block, const int16_t* a, const q8k_scales* s, v128_t lanes[2]) {
  // pairs[h]: the 16-value groups 2c + h, whose values are lanes 4h .. 4h + 3
  v128_t pairs[2][2] = { { wasm_i32x4_splat(0), wasm_i32x4_splat(0) }, { wasm_i32x4_splat(0), wasm_i32x4_splat(0) } };
  const int8_t* scales = (const int8_t*)block + 192;
  UNROLL for (int n = 0; n < 2; n++) {
    v128_t q[8];
    q6_k_codes(block, n, q);
    UNROLL for (int g = 0; g < 8; g++) {
      add_scaled_pairs(pairs[g & 1], wasm_u16x8_extend_low_u8x16(q[g]), wasm_u16x8_extend_high_u8x16(q[g]), a + 16 * (8 * n + g), wasm_i16x8_splat(scales[8 * n + g]));
      step_barrier(pairs[g & 1][1]);
    }
  }
  lanes[0] = wasm_i32x4_sub(quad_sums(pairs[0]), q6_k_offsets(q6_k_scales16(block, 0), s, 0));
  lanes[1] = wasm_i32x4_sub(quad_sums(pairs[1]), q6_k_offsets(q6_k_scales16(block, 1), s, 1));
}

EXPORT void linear_q6_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  size_t row_bytes = (size_t)nb * Q6_K_BYTES;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) {
      v128_t acc[4] = { wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0) };
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = weight + o * row_bytes + (size_t)b * Q6_K_BYTES;
        const q8k_scales* s = as + (size_t)r * nb + b;
        v128_t lanes[2];
        q6_k_lanes(block, aq + (size_t)r * width + QK_K * b, s, lanes);
        v128_t dd = wasm_f32x4_splat(s->d * f16_at(block + 208));
        fma_i32x4(&acc[0], lanes[0], dd);
        fma_i32x4(&acc[2], lanes[1], dd);
      }
      out[(size_t)r * out_features + o] = hsum_float_8_f64x2(acc);
    }
  }
}
