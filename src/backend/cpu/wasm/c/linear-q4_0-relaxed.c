// linear-q4_0.c with relaxed SIMD (relaxed.h): the same results, bit for bit, with x86's int8 dot
// product and fused multiply-add in place of int16 products and the float64 FMA emulation.
// (q4 - 8) . a = q4 . a - 8 sum(a): the nibbles 0..15 are the unsigned operand of the dot.
#include "relaxed.h"

#define Q4_0_BYTES 18

/** Eight int16 lanes of q4 . a over one block (pairs of products; at most 8 * 15 * 127 in magnitude). */
static inline v128_t q4_dot_pairs(const uint8_t* block, v128_t a0, v128_t a1) {
  v128_t packed = wasm_v128_load(block + 2);
  v128_t nibble = wasm_i8x16_splat(0x0f);
  // a 16-bit shift (V8 emulates byte shifts), the bits crossing from the neighbouring byte masked off
  return wasm_i16x8_add(dot_u8_i8_pairs(wasm_v128_and(packed, nibble), a0), dot_u8_i8_pairs(wasm_v128_and(wasm_u16x8_shr(packed, 4), nibble), a1));
}

static int q4_0_dot_scalar(const uint8_t* block, const int8_t* a) {
  int s = 0;
  for (int j = 0; j < 16; j++) s += ((block[2 + j] & 15) - 8) * a[j] + ((block[2 + j] >> 4) - 8) * a[j + 16];
  return s;
}

/** One output row (the rows left over from groups of four). */
static float q4_0_row(const uint8_t* w, int nb, const int8_t* aq, const float* ad) {
  float acc = 0;
  for (int b = 0; b < nb; b++) acc = fma32_exact_product((double)q4_0_dot_scalar(w + b * Q4_0_BYTES, aq + 32 * b) * (f16_at(w + b * Q4_0_BYTES) * ad[b]), acc);
  return acc;
}

EXPORT void linear_q4_0_q8_0(const int8_t* aq, const float* ad, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / 32, first, end;
  size_t row_bytes = (size_t)nb * Q4_0_BYTES;
  v128_t ones = wasm_i16x8_splat(1), eights = wasm_i8x16_splat(8);
  thread_rows(out_features, 4, ith, nth, &first, &end);
  int o = first;
  for (; o + 4 <= end; o += 4) {
    const uint8_t* w0 = weight + o * row_bytes;
    const uint8_t* w1 = w0 + row_bytes;
    const uint8_t* w2 = w1 + row_bytes;
    const uint8_t* w3 = w2 + row_bytes;
    for (int r = 0; r < rows; r++) {
      const int8_t* a = aq + (size_t)r * width;
      const float* d = ad + (size_t)r * nb;
      v128_t acc = wasm_f32x4_splat(0);
      for (int b = 0; b < nb; b++) {
        v128_t a0 = wasm_v128_load(a + 32 * b), a1 = wasm_v128_load(a + 32 * b + 16);
        v128_t offset = wasm_i16x8_add(dot_u8_i8_pairs(eights, a0), dot_u8_i8_pairs(eights, a1)); // 8 sum(a), in pairs
        size_t at = (size_t)b * Q4_0_BYTES;
        v128_t isum = hsum4_i32(wasm_i32x4_dot_i16x8(wasm_i16x8_sub(q4_dot_pairs(w0 + at, a0, a1), offset), ones),
                                wasm_i32x4_dot_i16x8(wasm_i16x8_sub(q4_dot_pairs(w1 + at, a0, a1), offset), ones),
                                wasm_i32x4_dot_i16x8(wasm_i16x8_sub(q4_dot_pairs(w2 + at, a0, a1), offset), ones),
                                wasm_i32x4_dot_i16x8(wasm_i16x8_sub(q4_dot_pairs(w3 + at, a0, a1), offset), ones));
        v128_t dd = wasm_f32x4_mul(f16x4_to_f32(w0 + at, w1 + at, w2 + at, w3 + at), wasm_f32x4_splat(d[b]));
        acc = fma_f32x4(wasm_f32x4_convert_i32x4(isum), dd, acc);
      }
      wasm_v128_store(out + (size_t)r * out_features + o, acc);
    }
  }
  for (; o < end; o++) {
    for (int r = 0; r < rows; r++) out[(size_t)r * out_features + o] = q4_0_row(weight + o * row_bytes, nb, aq + (size_t)r * width, ad + (size_t)r * nb);
  }
}
