// linear-q6_k.c with relaxed SIMD (relaxed.h): the same results, bit for bit. The 6-bit codes are
// the unsigned operand of the int8 dot product against the int8 activation codes (q8k_codes8), and
// each 16-value group's int16 pair sums meet its scale in one i32x4.dot_i16x8: the sums of four
// consecutive products, as ggml's lanes want them. The eight float32 lanes are two f32x4, fused-added
// with relaxed madd. For a few activation rows (decoding) each block is decoded for every row; for
// more (prefill) once for all of them (q6_k_decoded), which go two at a time.
#include "q6_k.h"
#include "relaxed.h"

/** Activation rows from which a weight row's blocks are decoded once for all of them. */
#define MANY_ROWS 4

/** sums[g & 1] += scale_g * (pairs of products of the 16-value group g of this half), scale_g in int16 lane g of scales16 (g a literal). */
#define ADD_GROUP(g) \
  sums[g & 1] = wasm_i32x4_add(sums[g & 1], wasm_i32x4_dot_i16x8(dot_u8_i8_pairs(q[g], wasm_v128_load(a + 16 * (8 * n + g))), \
                                                                 wasm_i16x8_shuffle(scales16[n], scales16[n], g, g, g, g, g, g, g, g)))

/** One weight row's super-block against the int8 activation codes a: its eight int32 lanes, 0..3 in lanes[0], 4..7 in lanes[1]. */
static inline void q6_k_lanes(const uint8_t* block, const int8_t* a, const q8k_scales* s, v128_t lanes[2]) {
  v128_t scales16[2] = { q6_k_scales16(block, 0), q6_k_scales16(block, 1) };
  // sums[h]: the 16-value groups 2c + h, whose values are lanes 4h .. 4h + 3
  v128_t sums[2] = { wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
  UNROLL for (int n = 0; n < 2; n++) {
    v128_t q[8];
    q6_k_codes(block, n, q);
    // pairs of products, at most 2 * 63 * 127 = 16002: int16
    ADD_GROUP(0); ADD_GROUP(1); ADD_GROUP(2); ADD_GROUP(3); ADD_GROUP(4); ADD_GROUP(5); ADD_GROUP(6); ADD_GROUP(7);
    step_barrier(sums[1]);
  }
  lanes[0] = wasm_i32x4_sub(sums[0], q6_k_offsets(scales16[0], s, 0));
  lanes[1] = wasm_i32x4_sub(sums[1], q6_k_offsets(scales16[1], s, 1));
}

/**
 * A weight row's super-block decoded for many activation rows: codes[g] the 6-bit codes of the
 * 16-value group g as bytes, scales[g] its scale in every int16 lane, scales16[h] the scales of
 * groups 8h .. 8h + 7 (q6_k_offsets), d in every float32 lane. 560 bytes.
 */
typedef struct {
  v128_t codes[16];
  v128_t scales[16];
  v128_t scales16[2];
  v128_t d;
} q6_k_decoded;

/** Super-blocks decoded at a time: 9 KiB on the stack, kept in L1 while the activation rows pass. */
#define DECODED_BLOCKS 16
/** Activation rows whose eight lanes are carried from one decoded chunk of blocks to the next. */
#define CARRIED_ROWS 64

/** A super-block, decoded. */
static void q6_k_decode(const uint8_t* block, q6_k_decoded* out) {
  q6_k_codes(block, 0, out->codes);
  q6_k_codes(block, 1, out->codes + 8);
  for (int g = 0; g < 16; g++) out->scales[g] = wasm_i16x8_splat((int8_t)block[192 + g]);
  out->scales16[0] = q6_k_scales16(block, 0);
  out->scales16[1] = q6_k_scales16(block, 1);
  out->d = wasm_f32x4_splat(f16_at(block + 208));
}

/** q6_k_lanes from a decoded block, for two activation rows (a, s and a2, s2) at once: each code and scale vector loaded once for both. */
static inline void q6_k_decoded_lanes2(const q6_k_decoded* w, const int8_t* a, const q8k_scales* s, const int8_t* a2, const q8k_scales* s2,
                                       v128_t lanes[2], v128_t lanes2[2]) {
  v128_t sums[2] = { wasm_i32x4_splat(0), wasm_i32x4_splat(0) }, sums2[2] = { wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
  UNROLL for (int g = 0; g < 16; g++) {
    v128_t codes = w->codes[g], scale = w->scales[g];
    sums[g & 1] = wasm_i32x4_add(sums[g & 1], wasm_i32x4_dot_i16x8(dot_u8_i8_pairs(codes, wasm_v128_load(a + 16 * g)), scale));
    sums2[g & 1] = wasm_i32x4_add(sums2[g & 1], wasm_i32x4_dot_i16x8(dot_u8_i8_pairs(codes, wasm_v128_load(a2 + 16 * g)), scale));
    // (measured: faster than a barrier every fourth group)
    if (g % 2 == 1) {
      step_barrier(sums[1]);
      step_barrier(sums2[1]);
    }
  }
  lanes[0] = wasm_i32x4_sub(sums[0], q6_k_offsets(w->scales16[0], s, 0));
  lanes[1] = wasm_i32x4_sub(sums[1], q6_k_offsets(w->scales16[1], s, 1));
  lanes2[0] = wasm_i32x4_sub(sums2[0], q6_k_offsets(w->scales16[0], s2, 0));
  lanes2[1] = wasm_i32x4_sub(sums2[1], q6_k_offsets(w->scales16[1], s2, 1));
}

/** Two activation rows (a, s and a2, s2) against n decoded blocks: each row's eight float32 lanes (acc, acc2) fused-added per block. */
static inline void q6_k_decoded_rows2(const q6_k_decoded* w, int n, const int8_t* a, const q8k_scales* s, const int8_t* a2, const q8k_scales* s2,
                                      v128_t acc[2], v128_t acc2[2]) {
  // in locals: the opaque pointers below might alias acc and acc2, which would then stay in memory
  v128_t lo = acc[0], hi = acc[1], lo2 = acc2[0], hi2 = acc2[1];
  for (int b = 0; b < n; b++) {
    const q6_k_decoded* wb = w + b;
    const int8_t* ab = a + QK_K * b;
    const int8_t* ab2 = a2 + QK_K * b;
    // opaque to LLVM's loop strength reduction, whose rewritten pointers lose the constant load offsets (an add per load)
    __asm__("" : "+r"(wb), "+r"(ab), "+r"(ab2));
    v128_t lanes[2], lanes2[2];
    q6_k_decoded_lanes2(wb, ab, s + b, ab2, s2 + b, lanes, lanes2);
    v128_t dd = wasm_f32x4_mul(wasm_f32x4_splat(s[b].d), wb->d), dd2 = wasm_f32x4_mul(wasm_f32x4_splat(s2[b].d), wb->d);
    lo = fma_f32x4(wasm_f32x4_convert_i32x4(lanes[0]), dd, lo);
    hi = fma_f32x4(wasm_f32x4_convert_i32x4(lanes[1]), dd, hi);
    lo2 = fma_f32x4(wasm_f32x4_convert_i32x4(lanes2[0]), dd2, lo2);
    hi2 = fma_f32x4(wasm_f32x4_convert_i32x4(lanes2[1]), dd2, hi2);
  }
  acc[0] = lo;
  acc[1] = hi;
  acc2[0] = lo2;
  acc2[1] = hi2;
}

/** Weight rows [first, end) against activation rows 0 .. rows - 1: DECODED_BLOCKS blocks decoded at a time for CARRIED_ROWS rows. */
static void q6_k_many_rows(const uint8_t* weight, int nb, const int8_t* a8, const q8k_scales* as, int rows, int width, int out_features,
                           float* out, int first, int end) {
  size_t row_bytes = (size_t)nb * Q6_K_BYTES;
  q6_k_decoded w[DECODED_BLOCKS];
  v128_t acc[CARRIED_ROWS][2];
  for (int o = first; o < end; o++) {
    for (int r0 = 0; r0 < rows; r0 += CARRIED_ROWS) {
      int rn = rows - r0 < CARRIED_ROWS ? rows - r0 : CARRIED_ROWS;
      for (int r = 0; r < rn; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0);
      for (int b0 = 0; b0 < nb; b0 += DECODED_BLOCKS) {
        int n = nb - b0 < DECODED_BLOCKS ? nb - b0 : DECODED_BLOCKS;
        for (int b = 0; b < n; b++) q6_k_decode(weight + o * row_bytes + (size_t)(b0 + b) * Q6_K_BYTES, w + b);
        // an odd last row pairs with itself (both halves write the same lanes)
        for (int r = r0; r < r0 + rn; r += 2) {
          int r2 = r + 1 < r0 + rn ? r + 1 : r;
          q6_k_decoded_rows2(w, n, a8 + (size_t)r * width + QK_K * b0, as + (size_t)r * nb + b0, a8 + (size_t)r2 * width + QK_K * b0, as + (size_t)r2 * nb + b0,
                             acc[r - r0], acc[r2 - r0]);
        }
      }
      for (int r = 0; r < rn; r++) {
        float l[8];
        wasm_v128_store(l, acc[r][0]);
        wasm_v128_store(l + 4, acc[r][1]);
        out[(size_t)(r0 + r) * out_features + o] = hsum_float_8(l);
      }
    }
  }
}

EXPORT void linear_q6_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  size_t row_bytes = (size_t)nb * Q6_K_BYTES;
  const int8_t* a8 = q8k_codes8(aq, rows, width);
  thread_rows(out_features, 1, ith, nth, &first, &end);
  if (rows >= MANY_ROWS) {
    q6_k_many_rows(weight, nb, a8, as, rows, width, out_features, out, first, end);
    return;
  }
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
