// linear-q4_0.c with relaxed SIMD (relaxed.h): the same results, bit for bit, with x86's int8 dot
// product and fused multiply-add in place of int16 products and the float64 FMA emulation.
// (q4 - 8) . a = q4 . a - 8 sum(a): the nibbles 0..15 are the unsigned operand of the dot.
// linear_q4_0_q8_0 takes one or two activation rows at a time against eight weight rows (decoding);
// linear_q4_0_q8_0x4 many rows, four at a time, from quantize_q8_0x4's interleaved groups (prefill).
#include "q0-blocks.h"
#include "relaxed.h"

/** Weight rows per pass: they share the activation loads and sums. */
#define GROUP 8

/** Eight int16 lanes of q4 . a over one block (pairs of products; at most 8 * 15 * 127 in magnitude). */
static inline v128_t q4_dot_pairs(const uint8_t* block, v128_t a0, v128_t a1) {
  v128_t packed = wasm_v128_load(block + 2);
  v128_t nibble = wasm_i8x16_splat(0x0f);
  // a 16-bit shift (V8 emulates byte shifts), the bits crossing from the neighbouring byte masked off
  return wasm_i16x8_add(dot_u8_i8_pairs(wasm_v128_and(packed, nibble), a0), dot_u8_i8_pairs(wasm_v128_and(wasm_u16x8_shr(packed, 4), nibble), a1));
}

/**
 * Four int32 lanes from four rows' int16 pair sums s[0..3] (from q4_dot_pairs): each row's total.
 * The pair sums are folded in int16 — 4, 8, then 16 products per lane, at most 16 * 15 * 127 =
 * 30480 in magnitude — and only the last fold widens.
 */
static inline v128_t fold4(const v128_t* s) {
  // [row 0 x4, row 1 x4] and [row 2 x4, row 3 x4]: halves of each row added (i64 lanes: punpck)
  v128_t t01 = wasm_i16x8_add(wasm_i64x2_shuffle(s[0], s[1], 0, 2), wasm_i64x2_shuffle(s[0], s[1], 1, 3));
  v128_t t23 = wasm_i16x8_add(wasm_i64x2_shuffle(s[2], s[3], 0, 2), wasm_i64x2_shuffle(s[2], s[3], 1, 3));
  // [row 0 x2, row 1 x2, row 2 x2, row 3 x2] (i32 lanes: shufps), then each row's pair widened and added
  v128_t u = wasm_i16x8_add(wasm_i32x4_shuffle(t01, t23, 0, 2, 4, 6), wasm_i32x4_shuffle(t01, t23, 1, 3, 5, 7));
  return wasm_i32x4_dot_i16x8(u, wasm_i16x8_splat(1));
}

/** 8 sum(a) over an activation block (a0, a1), in every lane. */
static inline v128_t eight_sums(v128_t a0, v128_t a1) {
  v128_t eights = wasm_i8x16_splat(8);
  v128_t s = wasm_i32x4_dot_i16x8(wasm_i16x8_add(dot_u8_i8_pairs(eights, a0), dot_u8_i8_pairs(eights, a1)), wasm_i16x8_splat(1));
  s = wasm_i32x4_add(s, wasm_i32x4_shuffle(s, s, 2, 3, 0, 1));
  return wasm_i32x4_add(s, wasm_i32x4_shuffle(s, s, 1, 0, 3, 2));
}

/** The four weight rows' f16 scales at block `at`, through the table (fewer instructions here than f16x4_to_f32). */
static inline v128_t scales4(const uint8_t* const* w, size_t at) {
  return wasm_f32x4_make(f16_at(w[0] + at), f16_at(w[1] + at), f16_at(w[2] + at), f16_at(w[3] + at));
}

/** One activation row (its codes a, scales d) against GROUP weight rows w: the GROUP outputs, into y. */
static inline void row1(const uint8_t* const* w, int nb, const int8_t* a, const float* d, float* y) {
  v128_t acc[GROUP / 4];
  for (int g = 0; g < GROUP / 4; g++) acc[g] = wasm_f32x4_splat(0);
  for (int b = 0; b < nb; b++) {
    v128_t a0 = wasm_v128_load(a + 32 * b), a1 = wasm_v128_load(a + 32 * b + 16);
    v128_t sums = eight_sums(a0, a1);
    size_t at = (size_t)b * Q4_0_BYTES;
    UNROLL for (int g = 0; g < GROUP / 4; g++) {
      const uint8_t* const* wg = w + 4 * g;
      v128_t s[4];
      UNROLL for (int i = 0; i < 4; i++) s[i] = q4_dot_pairs(wg[i] + at, a0, a1);
      v128_t isum = wasm_i32x4_sub(fold4(s), sums);
      acc[g] = fma_f32x4(wasm_f32x4_convert_i32x4(isum), wasm_f32x4_mul(scales4(wg, at), wasm_f32x4_splat(d[b])), acc[g]);
    }
  }
  for (int g = 0; g < GROUP / 4; g++) wasm_v128_store(y + 4 * g, acc[g]);
}

/** row1 for two activation rows at once (a, d and b, e): each weight block's nibbles and scales are decoded once for both. */
static inline void rows2(const uint8_t* const* w, int nb, const int8_t* a, const float* d, const int8_t* b_, const float* e, float* y, float* z) {
  v128_t acc[GROUP / 4], acc2[GROUP / 4];
  for (int g = 0; g < GROUP / 4; g++) acc[g] = acc2[g] = wasm_f32x4_splat(0);
  v128_t nibble = wasm_i8x16_splat(0x0f);
  for (int b = 0; b < nb; b++) {
    v128_t a0 = wasm_v128_load(a + 32 * b), a1 = wasm_v128_load(a + 32 * b + 16);
    v128_t b0 = wasm_v128_load(b_ + 32 * b), b1 = wasm_v128_load(b_ + 32 * b + 16);
    v128_t sums_a = eight_sums(a0, a1), sums_b = eight_sums(b0, b1);
    size_t at = (size_t)b * Q4_0_BYTES;
    UNROLL for (int g = 0; g < GROUP / 4; g++) {
      const uint8_t* const* wg = w + 4 * g;
      v128_t s[4], t[4];
      UNROLL for (int i = 0; i < 4; i++) {
        v128_t packed = wasm_v128_load(wg[i] + at + 2);
        v128_t lo = wasm_v128_and(packed, nibble), hi = wasm_v128_and(wasm_u16x8_shr(packed, 4), nibble);
        s[i] = wasm_i16x8_add(dot_u8_i8_pairs(lo, a0), dot_u8_i8_pairs(hi, a1));
        t[i] = wasm_i16x8_add(dot_u8_i8_pairs(lo, b0), dot_u8_i8_pairs(hi, b1));
      }
      v128_t scales = scales4(wg, at);
      acc[g] = fma_f32x4(wasm_f32x4_convert_i32x4(wasm_i32x4_sub(fold4(s), sums_a)), wasm_f32x4_mul(scales, wasm_f32x4_splat(d[b])), acc[g]);
      acc2[g] = fma_f32x4(wasm_f32x4_convert_i32x4(wasm_i32x4_sub(fold4(t), sums_b)), wasm_f32x4_mul(scales, wasm_f32x4_splat(e[b])), acc2[g]);
    }
  }
  for (int g = 0; g < GROUP / 4; g++) {
    wasm_v128_store(y + 4 * g, acc[g]);
    wasm_v128_store(z + 4 * g, acc2[g]);
  }
}

EXPORT void linear_q4_0_q8_0(const int8_t* aq, const float* ad, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / 32, first, end;
  size_t row_bytes = (size_t)nb * Q4_0_BYTES;
  thread_rows(out_features, GROUP, ith, nth, &first, &end);
  // The GROUP rows computed together are `stride` apart, so that each of them continues where the
  // previous pass's left off: GROUP long sequential streams through the weights, which the
  // hardware prefetchers follow (GROUP adjacent rows would be as many streams of one row each).
  int stride = (end - first) / GROUP;
  for (int o = first; o < first + stride; o++) {
    const uint8_t* w[GROUP];
    for (int i = 0; i < GROUP; i++) w[i] = weight + (size_t)(o + i * stride) * row_bytes;
    float y[GROUP], z[GROUP];
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
      rows2(w, nb, aq + (size_t)r * width, ad + (size_t)r * nb, aq + (size_t)(r + 1) * width, ad + (size_t)(r + 1) * nb, y, z);
      for (int i = 0; i < GROUP; i++) {
        out[(size_t)r * out_features + o + i * stride] = y[i];
        out[(size_t)(r + 1) * out_features + o + i * stride] = z[i];
      }
    }
    for (; r < rows; r++) {
      row1(w, nb, aq + (size_t)r * width, ad + (size_t)r * nb, y);
      for (int i = 0; i < GROUP; i++) out[(size_t)r * out_features + o + i * stride] = y[i];
    }
  }
  for (int o = first + GROUP * stride; o < end; o++) {
    for (int r = 0; r < rows; r++) out[(size_t)r * out_features + o] = q4_0_row(weight + o * row_bytes, nb, aq + (size_t)r * width, ad + (size_t)r * nb);
  }
}

/**
 * Four weight rows' block, expanded for linear_q4_0_q8_0x4: codes[k][j] is chunk k (values 4k..4k+3,
 * nibbles 0..15) of row j in all four 32-bit lanes, d[j] row j's scale in all four lanes. 576 bytes
 * for 128 of nibbles, but a plain load then meets an activation group (q8_0x4) with no shuffle.
 */
typedef struct {
  v128_t codes[8][4];
  v128_t d[4];
} q4_0_splat4;

/** Blocks per expanded chunk of four weight rows: 18 KiB on the stack, kept in L1 while every activation group passes. */
#define SPLAT_BLOCKS 32

/** Blocks b0 .. b0 + n - 1 of the four weight rows w, expanded. */
static void expand4(const uint8_t* const* w, int b0, int n, q4_0_splat4* out) {
  v128_t nibble = wasm_i8x16_splat(0x0f);
  for (int b = 0; b < n; b++) {
    size_t at = (size_t)(b0 + b) * Q4_0_BYTES;
    for (int j = 0; j < 4; j++) {
      v128_t packed = wasm_v128_load(w[j] + at + 2);
      v128_t lo = wasm_v128_and(packed, nibble), hi = wasm_v128_and(wasm_u16x8_shr(packed, 4), nibble);
      out[b].codes[0][j] = wasm_i32x4_shuffle(lo, lo, 0, 0, 0, 0);
      out[b].codes[1][j] = wasm_i32x4_shuffle(lo, lo, 1, 1, 1, 1);
      out[b].codes[2][j] = wasm_i32x4_shuffle(lo, lo, 2, 2, 2, 2);
      out[b].codes[3][j] = wasm_i32x4_shuffle(lo, lo, 3, 3, 3, 3);
      out[b].codes[4][j] = wasm_i32x4_shuffle(hi, hi, 0, 0, 0, 0);
      out[b].codes[5][j] = wasm_i32x4_shuffle(hi, hi, 1, 1, 1, 1);
      out[b].codes[6][j] = wasm_i32x4_shuffle(hi, hi, 2, 2, 2, 2);
      out[b].codes[7][j] = wasm_i32x4_shuffle(hi, hi, 3, 3, 3, 3);
      out[b].d[j] = wasm_f32x4_splat(f16_at(w[j] + at));
    }
  }
}

/**
 * One activation group (four rows, lanes) against four expanded weight rows over n blocks:
 * acc[j] += row j's per-block terms, in block order. The int16 pair sums of the eight chunks stay
 * below 8 * 2 * 15 * 127 = 30480.
 */
static inline void group4(const q4_0_splat4* w, const q8_0x4* a, int n, v128_t acc[4]) {
  v128_t ones = wasm_i16x8_splat(1);
  for (int b = 0; b < n; b++) {
    const q4_0_splat4* wb = w + b;
    const q8_0x4* ab = a + b;
    // opaque to LLVM's loop strength reduction, whose rewritten pointers lose the constant load offsets (an add per load)
    __asm__("" : "+r"(wb), "+r"(ab));
    v128_t s[4];
    UNROLL for (int k = 0; k < 8; k++) {
      v128_t x = ab->codes[k];
      UNROLL for (int j = 0; j < 4; j++) {
        v128_t p = dot_u8_i8_pairs(wb->codes[k][j], x);
        s[j] = k ? wasm_i16x8_add(s[j], p) : p;
      }
      // each sum held at every other step (all at the last): loads stay within two steps of their use
      UNROLL for (int j = 0; j < 4; j++) if (((k + j) & 1) == 0 || k == 7) step_barrier(s[j]);
    }
    v128_t eight_sums = wasm_i32x4_shl(ab->sums, 3);
    UNROLL for (int j = 0; j < 4; j++) {
      v128_t isum = wasm_i32x4_sub(wasm_i32x4_dot_i16x8(s[j], ones), eight_sums);
      acc[j] = fma_f32x4(wasm_f32x4_convert_i32x4(isum), wasm_f32x4_mul(wb->d[j], ab->d), acc[j]);
    }
  }
}

/**
 * linear_q4_0_q8_0 for many activation rows (linear.ts: 8 or more), from quantize_q8_0x4's groups:
 * four weight rows a pass, each block expanded once (q4_0_splat4) for every group of four rows.
 * Per output the order of ggml_gemm_q4_0_8x8_q8_0 (ggml-cpu/arch/x86/repack.cpp): one FMA per
 * block, in block order.
 */
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
        // acc[j] lane r: output (4g + r, o + j), carried in `out` from one chunk of blocks to the next
        int live = rows - 4 * g < 4 ? rows - 4 * g : 4;
        float* y = out + (size_t)4 * g * out_features + o;
        float lanes[4][4] = { { 0 } };
        v128_t acc[4];
        for (int j = 0; j < 4; j++) {
          if (b0 > 0) for (int r = 0; r < live; r++) lanes[j][r] = y[(size_t)r * out_features + j];
          acc[j] = wasm_v128_load(lanes[j]);
        }
        group4(w, act + (size_t)g * nb + b0, n, acc);
        for (int j = 0; j < 4; j++) {
          wasm_v128_store(lanes[j], acc[j]);
          for (int r = 0; r < live; r++) y[(size_t)r * out_features + j] = lanes[j][r];
        }
      }
    }
  }
}
