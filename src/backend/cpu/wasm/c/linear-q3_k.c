// Q3_K weights x Q8_K activations, rounding as ggml_vec_dot_q3_K_q8_K (ggml-cpu/arch/x86/quants.c,
// the AVX2 path, also in AVX-512 builds), as linearQ3_K in ops/ggml-dot.ts. Per 256-value
// super-block, eight int32 lanes: lane t sums scale * q3 * q8 over the values 32c + 4t + u (c < 8,
// u < 4), the codes signed (-4..3) and the scales signed (-32..31); each lane rounded to float32
// and fused-added times f32(d_x * d_w) into a float32 lane; then hsum_float_8.
//
// Q3_K block (ggml-common.h block_q3_K, 110 bytes), two halves n = 0, 1 of 128 values:
//     0  hmask[32]    third bits: bit 4n + j of byte l belongs to value 128n + 32j + l
//    32  qs[64]       low 2 bits: bits 2j, 2j + 1 of byte 32n + l belong to value 128n + 32j + l
//    96  scales[12]   sixteen 6-bit scales, one per 16 values: the low 4 bits of scale k in byte k
//                     (k < 8, low nibble) or k - 8 (high nibble), the high 2 bits in bits
//                     2 (k / 4), +1 of byte 8 + k % 4; stored plus 32
//   108  f16 d
//   value = d * (scale - 32) * (low 2 bits - (third bit ? 0 : 4))
#include "kquants.h"

#define Q3_K_BYTES 110

/** The sixteen signed scales of a Q3_K super-block (dequantize_row_q3_K's unpacking). */
static inline v128_t q3_k_scales(const uint8_t* packed) {
  v128_t bytes = wasm_v128_load64_zero(packed);
  v128_t nibble = wasm_i8x16_splat(0x0f);
  v128_t low = wasm_i64x2_shuffle(wasm_v128_and(bytes, nibble), wasm_v128_and(wasm_u16x8_shr(bytes, 4), nibble), 0, 2);
  uint32_t h = packed[8] | packed[9] << 8 | packed[10] << 16 | (uint32_t)packed[11] << 24;
  // byte k of the vector: bits 2 (k / 4), +1 of byte 8 + k % 4
  v128_t high = wasm_v128_and(wasm_i32x4_make(h, h >> 2, h >> 4, h >> 6), wasm_i8x16_splat(3));
  return wasm_i8x16_sub(wasm_v128_or(low, wasm_i16x8_shl(high, 4)), wasm_i8x16_splat(32));
}

/** One weight row's super-block against the activation codes a: its eight int32 lanes, 0..3 in lanes[0], 4..7 in lanes[1]. */
static inline void q3_k_lanes(const uint8_t* block, const int16_t* a, v128_t lanes[2]) {
  // pairs[h]: the 16-value groups 2c + h, whose values are lanes 4h .. 4h + 3
  v128_t pairs[2][2] = { { wasm_i32x4_splat(0), wasm_i32x4_splat(0) }, { wasm_i32x4_splat(0), wasm_i32x4_splat(0) } };
  int8_t scales[16];
  wasm_v128_store(scales, q3_k_scales(block + 96));
  v128_t hmask[2] = { wasm_v128_load(block), wasm_v128_load(block + 16) };
  v128_t three = wasm_i8x16_splat(3), four = wasm_i8x16_splat(4);
  UNROLL for (int n = 0; n < 2; n++) {
    v128_t qs[2] = { wasm_v128_load(block + 32 + 32 * n), wasm_v128_load(block + 48 + 32 * n) };
    UNROLL for (int j = 0; j < 4; j++) {
      UNROLL for (int h = 0; h < 2; h++) {
        int k = 8 * n + 2 * j + h, bit = 4 * n + j;
        // (16-bit shifts: the bits crossing into the neighbouring byte are masked off)
        v128_t low = wasm_v128_and(wasm_u16x8_shr(qs[h], 2 * j), three);
        v128_t third = wasm_v128_and(bit <= 2 ? wasm_i16x8_shl(hmask[h], 2 - bit) : wasm_u16x8_shr(hmask[h], bit - 2), four);
        v128_t q = wasm_i8x16_sub(wasm_v128_or(low, third), four);
        add_scaled_pairs(pairs[h], wasm_i16x8_extend_low_i8x16(q), wasm_i16x8_extend_high_i8x16(q), a + 16 * k, wasm_i16x8_splat(scales[k]));
        step_barrier(pairs[h][1]);
      }
    }
  }
  lanes[0] = quad_sums(pairs[0]);
  lanes[1] = quad_sums(pairs[1]);
}

EXPORT void linear_q3_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  size_t row_bytes = (size_t)nb * Q3_K_BYTES;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) {
      v128_t acc[4] = { wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0) };
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = weight + o * row_bytes + (size_t)b * Q3_K_BYTES;
        const q8k_scales* s = as + (size_t)r * nb + b;
        v128_t lanes[2];
        q3_k_lanes(block, aq + (size_t)r * width + QK_K * b, lanes);
        v128_t dd = wasm_f32x4_splat(s->d * f16_at(block + 108));
        fma_i32x4(&acc[0], lanes[0], dd);
        fma_i32x4(&acc[2], lanes[1], dd);
      }
      out[(size_t)r * out_features + o] = hsum_float_8_f64x2(acc);
    }
  }
}
