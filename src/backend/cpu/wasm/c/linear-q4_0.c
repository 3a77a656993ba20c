// Q4_0 weights x Q8_0 activations, rounding as ggml's repacked q4_0_8x8 kernels
// (ggml-cpu/arch/x86/repack.cpp gemv/gemm_q4_b32_8x8_q8_0), as linearQ4_0 in ops/ggml-dot.ts:
// per 32-value block the exact integer dot (q4 - 8) . q8, fused-added times f32(d_w * d_x) into one
// float32 accumulator per output. Four weight rows at a time: their integer dots share the
// activation loads, and their float accumulations run in two float64x2 vectors (fma_lanes).
// linear_q4_0_q8_0 takes one activation row at a time; linear_q4_0_q8_0x4 four, from
// quantize_q8_0x4's interleaved groups, each weight block expanded once for all of them.
//
// Q4_0 block (ggml-common.h block_q4_0, 18 bytes): f16 d, then 16 bytes whose low nibbles are
// values 0..15 and high nibbles values 16..31; value = (nibble - 8) * d.
#include "q0-blocks.h"

/** The activation block widened to int16 once, for all the weight rows it meets. */
typedef struct {
  v128_t v[4];
} act16;

static inline act16 widen_activations(const int8_t* a) {
  v128_t a0 = wasm_v128_load(a), a1 = wasm_v128_load(a + 16);
  return (act16){ { wasm_i16x8_extend_low_i8x16(a0), wasm_i16x8_extend_high_i8x16(a0), wasm_i16x8_extend_low_i8x16(a1), wasm_i16x8_extend_high_i8x16(a1) } };
}

/** Four int32 partial sums of (q4 - 8) . a over one block. */
static inline v128_t q4_0_dot(const uint8_t* block, const act16* a) {
  v128_t packed = wasm_v128_load(block + 2);
  v128_t eight = wasm_i8x16_splat(8);
  v128_t lo = wasm_i8x16_sub(wasm_v128_and(packed, wasm_i8x16_splat(0x0f)), eight);
  // a 16-bit shift (V8 emulates byte shifts), the bits crossing from the neighbouring byte masked off
  v128_t hi = wasm_i8x16_sub(wasm_v128_and(wasm_u16x8_shr(packed, 4), wasm_i8x16_splat(0x0f)), eight);
  return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(lo), a->v[0]), wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(lo), a->v[1])),
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(hi), a->v[2]), wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(hi), a->v[3])));
}

EXPORT void linear_q4_0_q8_0(const int8_t* aq, const float* ad, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / 32, first, end;
  size_t row_bytes = (size_t)nb * Q4_0_BYTES;
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
      v128_t acc01 = wasm_f64x2_splat(0), acc23 = wasm_f64x2_splat(0);
      for (int b = 0; b < nb; b++) {
        act16 a16 = widen_activations(a + 32 * b);
        size_t at = (size_t)b * Q4_0_BYTES;
        v128_t isum = hsum4_i32(q4_0_dot(w0 + at, &a16), q4_0_dot(w1 + at, &a16), q4_0_dot(w2 + at, &a16), q4_0_dot(w3 + at, &a16));
        v128_t dw = f16x4_to_f32(w0 + at, w1 + at, w2 + at, w3 + at);
        v128_t dd = wasm_f32x4_mul(dw, wasm_f32x4_splat(d[b]));
        v128_t p01 = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(isum), wasm_f64x2_promote_low_f32x4(dd));
        v128_t p23 = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(isum, isum, 2, 3, 2, 3)),
                                    wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(dd, dd, 2, 3, 2, 3)));
        acc01 = fma_lanes(p01, acc01);
        acc23 = fma_lanes(p23, acc23);
      }
      float* y = out + (size_t)r * out_features + o;
      y[0] = (float)wasm_f64x2_extract_lane(acc01, 0);
      y[1] = (float)wasm_f64x2_extract_lane(acc01, 1);
      y[2] = (float)wasm_f64x2_extract_lane(acc23, 0);
      y[3] = (float)wasm_f64x2_extract_lane(acc23, 1);
    }
  }
  for (; o < end; o++) {
    for (int r = 0; r < rows; r++) out[(size_t)r * out_features + o] = q4_0_row(weight + o * row_bytes, nb, aq + (size_t)r * width, ad + (size_t)r * nb);
  }
}

/**
 * Four weight rows' block, expanded for linear_q4_0_q8_0x4: codes[k][j] is chunk k (values
 * 4k..4k+3, q4 - 8) of row j as int16, twice; d[j] row j's scale in all four lanes.
 */
typedef struct {
  v128_t codes[8][4];
  v128_t d[4];
} q4_0_splat4;

/** Blocks per expanded chunk of four weight rows (18 KiB on the stack). */
#define SPLAT_BLOCKS 32

/** Blocks b0 .. b0 + n - 1 of the four weight rows w, expanded. */
static void expand4(const uint8_t* const* w, int b0, int n, q4_0_splat4* out) {
  for (int b = 0; b < n; b++) {
    size_t at = (size_t)(b0 + b) * Q4_0_BYTES;
    for (int j = 0; j < 4; j++) {
      v128_t chunks[8];
      chunks_i16(Q4_0, w[j] + at, chunks);
      for (int k = 0; k < 8; k++) out[b].codes[k][j] = chunks[k];
      out[b].d[j] = wasm_f32x4_splat(f16_at(w[j] + at));
    }
  }
}

/**
 * One activation group (four rows, lanes) against four expanded weight rows over n blocks:
 * acc[2j], acc[2j + 1] (rows 0-1, 2-3 as float64x2) += row j's per-block terms, in block order.
 */
static inline void group4(const q4_0_splat4* w, const q8_0x4* a, int n, v128_t acc[8]) {
  for (int b = 0; b < n; b++) {
    const q4_0_splat4* wb = w + b;
    const q8_0x4* ab = a + b;
    // pairs of products: lanes [row 0, row 0, row 1, row 1] in s01, rows 2 and 3 in s23
    v128_t s01[4], s23[4];
    UNROLL for (int k = 0; k < 8; k++) {
      v128_t x01 = wasm_i16x8_extend_low_i8x16(ab->codes[k]), x23 = wasm_i16x8_extend_high_i8x16(ab->codes[k]);
      UNROLL for (int j = 0; j < 4; j++) {
        v128_t p01 = wasm_i32x4_dot_i16x8(wb->codes[k][j], x01), p23 = wasm_i32x4_dot_i16x8(wb->codes[k][j], x23);
        s01[j] = k ? wasm_i32x4_add(s01[j], p01) : p01;
        s23[j] = k ? wasm_i32x4_add(s23[j], p23) : p23;
      }
    }
    v128_t p[8];
    UNROLL for (int j = 0; j < 4; j++) {
      v128_t isum = wasm_i32x4_add(wasm_i32x4_shuffle(s01[j], s23[j], 0, 2, 4, 6), wasm_i32x4_shuffle(s01[j], s23[j], 1, 3, 5, 7));
      v128_t dd = wasm_f32x4_mul(wb->d[j], ab->d);
      p[2 * j] = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(isum), wasm_f64x2_promote_low_f32x4(dd));
      p[2 * j + 1] = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(isum, isum, 2, 3, 2, 3)),
                                    wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(dd, dd, 2, 3, 2, 3)));
    }
    fma_lanes_n(8, acc, p);
  }
}

/** linear_q4_0_q8_0 for many activation rows (linear.ts: 8 or more), from quantize_q8_0x4's groups: four weight rows a pass, each block expanded once for every group. */
EXPORT void linear_q4_0_q8_0x4(const q8_0x4* act, int rows, int width, const uint8_t* weight, int out_features, float* out, int ith, int nth) {
  int nb = width / 32, groups = (rows + 3) / 4, first, end;
  size_t row_bytes = (size_t)nb * Q4_0_BYTES;
  thread_rows(out_features, 4, ith, nth, &first, &end);
  q4_0_splat4 w[SPLAT_BLOCKS];
  for (int o = first; o < end; o += 4) {
    const uint8_t* rows4[4] = { weight + o * row_bytes, weight + (o + 1) * row_bytes, weight + (o + 2) * row_bytes, weight + (o + 3) * row_bytes };
    for (int b0 = 0; b0 < nb; b0 += SPLAT_BLOCKS) {
      int n = nb - b0 < SPLAT_BLOCKS ? nb - b0 : SPLAT_BLOCKS;
      expand4(rows4, b0, n, w);
      for (int g = 0; g < groups; g++) {
        // output (4g + r, o + j) in lane r % 2 of acc[2j + r / 2], carried in `out` from one chunk of blocks to the next
        int live = rows - 4 * g < 4 ? rows - 4 * g : 4;
        float* y = out + (size_t)4 * g * out_features + o;
        v128_t acc[8];
        for (int j = 0; j < 4; j++) {
          double lanes[4] = { 0, 0, 0, 0 };
          if (b0 > 0) for (int r = 0; r < live; r++) lanes[r] = y[(size_t)r * out_features + j];
          acc[2 * j] = wasm_v128_load(lanes);
          acc[2 * j + 1] = wasm_v128_load(lanes + 2);
        }
        group4(w, act + (size_t)g * nb + b0, n, acc);
        for (int j = 0; j < 4; j++) {
          double lanes[4];
          wasm_v128_store(lanes, acc[2 * j]);
          wasm_v128_store(lanes + 2, acc[2 * j + 1]);
          for (int r = 0; r < live; r++) y[(size_t)r * out_features + j] = (float)lanes[r];
        }
      }
    }
  }
}
