// linear-q0-lanes.c with relaxed SIMD (relaxed.h): the same results, bit for bit, with x86's int8
// dot product and fused multiply-add, as ggml's AVX2 kernels themselves compute them.
#include "q0-blocks.h"
#include "relaxed.h"

/** hsum_float_8 of two float32x4 lanes (0..3, 4..7). */
static inline float hsum8(v128_t acc03, v128_t acc47) {
  float lanes[8];
  wasm_v128_store(lanes, acc03);
  wasm_v128_store(lanes + 4, acc47);
  return hsum_float_8(lanes);
}

/**
 * The kernel for one weight type (a constant once inlined: no per-block switch on it). Activation
 * rows go two at a time, each weight block decoded and split once for both.
 */
static inline __attribute__((always_inline)) void lanes_rows(int type, const int8_t* aq, const float* ad, int rows, int width, const uint8_t* weight,
                                                             int out_features, float* out, int first, int end) {
  int nb = width / 32;
  size_t block_bytes = BLOCK_BYTES[type], row_bytes = nb * block_bytes;
  v128_t zero = opaque_zero();
  for (int o = first; o < end; o++) {
    const uint8_t* w = weight + o * row_bytes;
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
      const int8_t* a = aq + (size_t)r * width;
      const int8_t* b_ = a + width;
      const float* d = ad + (size_t)r * nb;
      const float* e = d + nb;
      // ggml's eight float32 lanes, for each of the two rows
      v128_t acc03 = wasm_f32x4_splat(0), acc47 = wasm_f32x4_splat(0), bcc03 = wasm_f32x4_splat(0), bcc47 = wasm_f32x4_splat(0);
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = w + b * block_bytes;
        v128_t lo, hi;
        decode(type, block, &lo, &hi);
        signed_codes slo = split_sign(lo, zero), shi = split_sign(hi, zero);
        float dw = f16_at(block);
        v128_t da = wasm_f32x4_splat(dw * d[b]), db = wasm_f32x4_splat(dw * e[b]);
        acc03 = fma_f32x4(wasm_f32x4_convert_i32x4(dot_split(slo, wasm_v128_load(a + 32 * b))), da, acc03);
        acc47 = fma_f32x4(wasm_f32x4_convert_i32x4(dot_split(shi, wasm_v128_load(a + 32 * b + 16))), da, acc47);
        bcc03 = fma_f32x4(wasm_f32x4_convert_i32x4(dot_split(slo, wasm_v128_load(b_ + 32 * b))), db, bcc03);
        bcc47 = fma_f32x4(wasm_f32x4_convert_i32x4(dot_split(shi, wasm_v128_load(b_ + 32 * b + 16))), db, bcc47);
      }
      out[(size_t)r * out_features + o] = hsum8(acc03, acc47);
      out[(size_t)(r + 1) * out_features + o] = hsum8(bcc03, bcc47);
    }
    for (; r < rows; r++) {
      const int8_t* a = aq + (size_t)r * width;
      const float* d = ad + (size_t)r * nb;
      v128_t acc03 = wasm_f32x4_splat(0), acc47 = wasm_f32x4_splat(0); // ggml's eight float32 lanes
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = w + b * block_bytes;
        v128_t lo, hi;
        decode(type, block, &lo, &hi);
        v128_t db = wasm_f32x4_splat(f16_at(block) * d[b]);
        acc03 = fma_f32x4(wasm_f32x4_convert_i32x4(dot_split(split_sign(lo, zero), wasm_v128_load(a + 32 * b))), db, acc03);
        acc47 = fma_f32x4(wasm_f32x4_convert_i32x4(dot_split(split_sign(hi, zero), wasm_v128_load(a + 32 * b + 16))), db, acc47);
      }
      out[(size_t)r * out_features + o] = hsum8(acc03, acc47);
    }
  }
}

EXPORT void linear_q0_lanes(int type, const int8_t* aq, const float* ad, int rows, int width, const uint8_t* weight, int out_features,
                            float* out, int ith, int nth) {
  int first, end;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  if (type == Q8_0) lanes_rows(Q8_0, aq, ad, rows, width, weight, out_features, out, first, end);
  else if (type == Q5_0) lanes_rows(Q5_0, aq, ad, rows, width, weight, out_features, out, first, end);
  else lanes_rows(Q4_0, aq, ad, rows, width, weight, out_features, out, first, end);
}
