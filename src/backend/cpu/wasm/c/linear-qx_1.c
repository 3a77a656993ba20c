// Q4_1 / Q5_1 weights x Q8_1 activations, rounding as ggml_vec_dot_q4_1_q8_1 /
// ggml_vec_dot_q5_1_q8_1 (ggml-cpu/arch/x86/quants.c, the AVX2 path), as linearQx_1 in
// ops/ggml-dot.ts: per 32-value block eight int32 lanes of four products (the unsigned codes times
// the activation codes), fused-added times f32(d_w * d_x) into eight float32 lanes, and
// summs += m_w * s_x (fused; s_x the activation block's f16 d * sum of its codes); the result is
// hsum_float_8(lanes) + summs.
//
// Block layouts (ggml-common.h): block_q4_1 = f16 d, f16 m, 16 bytes of nibbles (20 bytes);
// block_q5_1 = f16 d, f16 m, uint32 qh (fifth bits), 16 bytes of nibbles (24 bytes). Low nibbles
// are values 0..15, high nibbles 16..31, the fifth bit of value j is bit j of qh;
// value = d * code + m.
#include "common.h"

/** As quad_sums of c/kquants.h: 16 unsigned codes q times 16 activation codes a, summed by four. */
static inline v128_t quad_dot(v128_t q, const int16_t* a) {
  v128_t lo = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(q), wasm_v128_load(a));
  v128_t hi = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(q), wasm_v128_load(a + 8));
  return wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7));
}

/** `five`: Q5_1 weights, else Q4_1. Activations: int16 codes and [d, s] per block (quantize_q8_1). */
EXPORT void linear_qx_1_q8_1(int five, const int16_t* aq, const float* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / 32, first, end;
  size_t block_bytes = five ? 24 : 20, row_bytes = nb * block_bytes;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    const uint8_t* w = weight + o * row_bytes;
    for (int r = 0; r < rows; r++) {
      const int16_t* a = aq + (size_t)r * width;
      const float* s = as + 2 * (size_t)r * nb;
      v128_t acc[4] = { wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0) };
      v128_t summs = wasm_f64x2_splat(0); // in lane 0: a vector fma has no data-dependent branch to mispredict
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = w + b * block_bytes;
        summs = fma_lanes(wasm_f64x2_make((double)f16_at(block + 2) * s[2 * b + 1], 0), summs);
        v128_t packed = wasm_v128_load(block + (five ? 8 : 4));
        v128_t nibble = wasm_i8x16_splat(0x0f);
        // (a 16-bit shift: the bits crossing into the neighbouring byte are masked off)
        v128_t lo = wasm_v128_and(packed, nibble), hi = wasm_v128_and(wasm_u16x8_shr(packed, 4), nibble);
        if (five) {
          uint32_t qh = block[4] | (block[5] << 8) | (block[6] << 16) | ((uint32_t)block[7] << 24);
          lo = wasm_v128_or(lo, fifth_bits(qh & 0xffff));
          hi = wasm_v128_or(hi, fifth_bits(qh >> 16));
        }
        v128_t dd = wasm_f64x2_splat(f16_at(block) * s[2 * b]);
        // the sums are small: exact as float32 and float64
        v128_t sums03 = quad_dot(lo, a + 32 * b), sums47 = quad_dot(hi, a + 32 * b + 16);
        v128_t p[4] = {
          wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(sums03), dd),
          wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(sums03, sums03, 2, 3, 2, 3)), dd),
          wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(sums47), dd),
          wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(sums47, sums47, 2, 3, 2, 3)), dd),
        };
        fma_lanes_n(4, acc, p);
      }
      out[(size_t)r * out_features + o] = hsum_float_8_f64x2(acc) + (float)wasm_f64x2_extract_lane(summs, 0);
    }
  }
}
