// linear-q0-lanes.c with relaxed SIMD (relaxed.h): the same results, bit for bit, with x86's int8
// dot product and fused multiply-add, as ggml's AVX2 kernels themselves compute them.
// linear_q0_lanes takes one or two activation rows at a time; linear_q0_lanes_x4 many, four at a
// time, from quantize_q8_0x4's interleaved groups.
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

/**
 * A weight row's block split for linear_q0_lanes_x4: magnitude[k] / negative[k] are |w| and the
 * mask of w < 0 of chunk k (values 4k..4k+3) in all four 32-bit lanes, d its scale in all lanes.
 */
typedef struct {
  v128_t magnitude[8];
  v128_t negative[8];
  v128_t d;
} q0_split_splat;

/** Blocks b0 .. b0 + n - 1 of a weight row of `type`, split and expanded (`zero` from opaque_zero). */
static void expand_split(int type, const uint8_t* row, int b0, int n, q0_split_splat* out, v128_t zero) {
  for (int b = 0; b < n; b++) {
    const uint8_t* block = row + (size_t)(b0 + b) * BLOCK_BYTES[type];
    v128_t lo, hi;
    decode(type, block, &lo, &hi);
    signed_codes half[2] = { split_sign(lo, zero), split_sign(hi, zero) };
    for (int h = 0; h < 2; h++) {
      v128_t m = half[h].magnitude, s = half[h].negative;
      out[b].magnitude[4 * h] = wasm_i32x4_shuffle(m, m, 0, 0, 0, 0);
      out[b].magnitude[4 * h + 1] = wasm_i32x4_shuffle(m, m, 1, 1, 1, 1);
      out[b].magnitude[4 * h + 2] = wasm_i32x4_shuffle(m, m, 2, 2, 2, 2);
      out[b].magnitude[4 * h + 3] = wasm_i32x4_shuffle(m, m, 3, 3, 3, 3);
      out[b].negative[4 * h] = wasm_i32x4_shuffle(s, s, 0, 0, 0, 0);
      out[b].negative[4 * h + 1] = wasm_i32x4_shuffle(s, s, 1, 1, 1, 1);
      out[b].negative[4 * h + 2] = wasm_i32x4_shuffle(s, s, 2, 2, 2, 2);
      out[b].negative[4 * h + 3] = wasm_i32x4_shuffle(s, s, 3, 3, 3, 3);
    }
    out[b].d = wasm_f32x4_splat(f16_at(block));
  }
}

/**
 * One activation group (four rows, lanes) against an expanded weight row over n blocks:
 * lanes[k] += each row's lane k terms (ggml's lane k: values 4k..4k+3), in block order.
 */
static inline void group_lanes(const q0_split_splat* w, const q8_0x4* a, int n, v128_t lanes[8]) {
  // in locals: the opaque pointers below might alias `lanes`, which would then stay in memory
  v128_t acc[8];
  for (int k = 0; k < 8; k++) acc[k] = lanes[k];
  for (int b = 0; b < n; b++) {
    const q0_split_splat* wb = w + b;
    const q8_0x4* ab = a + b;
    // opaque to LLVM's loop strength reduction, whose rewritten pointers lose the constant load offsets (an add per load)
    __asm__("" : "+r"(wb), "+r"(ab));
    v128_t d = wasm_f32x4_mul(wb->d, ab->d);
    UNROLL for (int k = 0; k < 8; k++) {
      signed_codes chunk = { wb->magnitude[k], wb->negative[k] };
      acc[k] = fma_f32x4(wasm_f32x4_convert_i32x4(dot_split(chunk, ab->codes[k])), d, acc[k]);
      step_barrier(acc[k]);
    }
  }
  for (int k = 0; k < 8; k++) lanes[k] = acc[k];
}

/**
 * linear_q0_lanes for many activation rows (linear.ts: 10 or more), from quantize_q8_0x4's groups:
 * one weight row a pass, each block split and expanded once (q0_split_splat) for up to
 * LANES_GROUPS groups of four rows, the four rows' lane k in the lanes of one vector.
 */
EXPORT void linear_q0_lanes_x4(int type, const q8_0x4* act, int rows, int width, const uint8_t* weight, int out_features, float* out, int ith, int nth) {
  int nb = width / 32, groups = (rows + 3) / 4, first, end;
  size_t row_bytes = (size_t)nb * BLOCK_BYTES[type];
  thread_rows(out_features, 1, ith, nth, &first, &end);
  v128_t zero = opaque_zero();
  q0_split_splat w[LANES_BLOCKS];
  v128_t lanes[LANES_GROUPS][8];
  for (int o = first; o < end; o++) {
    for (int g0 = 0; g0 < groups; g0 += LANES_GROUPS) {
      int gn = groups - g0 < LANES_GROUPS ? groups - g0 : LANES_GROUPS;
      for (int b0 = 0; b0 < nb; b0 += LANES_BLOCKS) {
        int n = nb - b0 < LANES_BLOCKS ? nb - b0 : LANES_BLOCKS;
        expand_split(type, weight + o * row_bytes, b0, n, w, zero);
        for (int g = 0; g < gn; g++) {
          if (b0 == 0) for (int k = 0; k < 8; k++) lanes[g][k] = wasm_f32x4_splat(0);
          group_lanes(w, act + (size_t)(g0 + g) * nb + b0, n, lanes[g]);
        }
      }
      for (int g = 0; g < gn; g++) {
        float y[4];
        wasm_v128_store(y, hsum_float_8_x4(lanes[g]));
        for (int r = 0; r < 4 && 4 * (g0 + g) + r < rows; r++) out[(size_t)(4 * (g0 + g) + r) * out_features + o] = y[r];
      }
    }
  }
}
