// linear-q6_k.c with relaxed SIMD (relaxed.h): the same results, bit for bit. The 6-bit codes are
// the unsigned operand of the int8 dot product against the int8 activation codes (q8k_codes8), and
// each 16-value group's int16 pair sums meet its scale in one i32x4.dot_i16x8: the sums of four
// consecutive products, as ggml's lanes want them. The eight float32 lanes are two f32x4, fused-added
// with relaxed madd.
#include "q6_k.h"
#include "relaxed.h"

/** sums[g & 1] += scale_g * (pairs of products of the 16-value group g of this half), scale_g in int16 lane g of scales16 (g a literal). */
#define ADD_GROUP(g) \
  sums[g & 1] = wasm_i32x4_add(sums[g & 1], wasm_i32x4_dot_i16x8(dot_u8_i8_pairs(q[g], wasm_v128_load(a + 16 * (8 * n + g))), \
                                                                 wasm_i16x8_shuffle(scales16[n], scales16[n], g, g, g, g, g, g, g, g)))

/** One weight row's super-block against the int8 activation codes a: its eight int32 lanes, 0..3 in lanes[0], 4..7 in lanes[1]. */
static inline void q6_k_lanes(const uint8_t* block, const int8_t* a, const q8k_scales* s, v128_t lanes[2]) {
  v128_t scales8 = wasm_v128_load(block + 192);
  v128_t scales16[2] = { wasm_i16x8_extend_low_i8x16(scales8), wasm_i16x8_extend_high_i8x16(scales8) };
  // sums[h]: the 16-value groups 2c + h, whose values are lanes 4h .. 4h + 3
  v128_t sums[2] = { wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
  UNROLL for (int n = 0; n < 2; n++) {
    v128_t q[8];
    q6_k_codes(block, n, q);
    // pairs of products, at most 2 * 63 * 127 = 16002: int16
    ADD_GROUP(0); ADD_GROUP(1); ADD_GROUP(2); ADD_GROUP(3); ADD_GROUP(4); ADD_GROUP(5); ADD_GROUP(6); ADD_GROUP(7);
    step_barrier(sums[1]);
  }
  lanes[0] = wasm_i32x4_sub(sums[0], q6_k_offsets(block, s, 0));
  lanes[1] = wasm_i32x4_sub(sums[1], q6_k_offsets(block, s, 1));
}

EXPORT void linear_q6_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  size_t row_bytes = (size_t)nb * Q6_K_BYTES;
  const int8_t* a8 = q8k_codes8(aq, rows, width);
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) {
      v128_t acc[2] = { wasm_f32x4_splat(0), wasm_f32x4_splat(0) };
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = weight + o * row_bytes + (size_t)b * Q6_K_BYTES;
        const q8k_scales* s = as + (size_t)r * nb + b;
        v128_t lanes[2];
        q6_k_lanes(block, a8 + (size_t)r * width + QK_K * b, s, lanes);
        v128_t dd = wasm_f32x4_splat(s->d * f16_at(block + 208));
        acc[0] = fma_f32x4(wasm_f32x4_convert_i32x4(lanes[0]), dd, acc[0]);
        acc[1] = fma_f32x4(wasm_f32x4_convert_i32x4(lanes[1]), dd, acc[1]);
      }
      float l[8];
      wasm_v128_store(l, acc[0]);
      wasm_v128_store(l + 4, acc[1]);
      out[(size_t)r * out_features + o] = hsum_float_8(l);
    }
  }
}
