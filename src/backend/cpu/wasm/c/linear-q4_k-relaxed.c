// linear-q4_k.c with relaxed SIMD (relaxed.h): the same results, bit for bit (q4_k.h). The 4-bit
// codes are the unsigned operand of the int8 dot product against the int8 activation codes
// (q8k_codes8); four weight rows a pass keep their acc and acc_min as the lanes of two float32
// vectors, fused-added with relaxed madd. The gemv rows (decoding) read the blocks as stored; for
// the gemm rows (prefill) each block of the four rows is interleaved once (q4_k_x4) for all of
// them, which go two at a time.
#include "q4_k.h"
#include "relaxed.h"

/** Weight rows per pass, one float32 lane each (eight, in two vectors, measured no faster). */
#define GROUP 4

/**
 * One weight row's super-block against the int8 activation codes a: four int32 lanes summing to
 * isum = sum_j scale_j dot_j (scales16: scale_j in int16 lane j).
 */
static inline v128_t q4_k_isum_lanes(const uint8_t* block, const int8_t* a, v128_t scales16) {
  v128_t nibble = wasm_i8x16_splat(0x0f);
  v128_t t[4];
  UNROLL for (int c = 0; c < 4; c++) {
    v128_t q0 = wasm_v128_load(block + 16 + 32 * c), q1 = wasm_v128_load(block + 32 + 32 * c);
    const int8_t* ac = a + 64 * c;
    // int16 lanes of sub-blocks 2c (low nibbles) and 2c + 1 (high), four products each: at most 4 * 15 * 127 = 7620
    // (16-bit shifts: the bits crossing into the neighbouring byte are masked off)
    v128_t lo = wasm_i16x8_add(dot_u8_i8_pairs(wasm_v128_and(q0, nibble), wasm_v128_load(ac)), dot_u8_i8_pairs(wasm_v128_and(q1, nibble), wasm_v128_load(ac + 16)));
    v128_t hi = wasm_i16x8_add(dot_u8_i8_pairs(wasm_v128_and(wasm_u16x8_shr(q0, 4), nibble), wasm_v128_load(ac + 32)),
                               dot_u8_i8_pairs(wasm_v128_and(wasm_u16x8_shr(q1, 4), nibble), wasm_v128_load(ac + 48)));
    // [sub-block 2c x4, sub-block 2c + 1 x4]: halves added (i64 lanes: punpck)
    t[c] = wasm_i16x8_add(wasm_i64x2_shuffle(lo, hi, 0, 2), wasm_i64x2_shuffle(lo, hi, 1, 3));
    step_barrier(t[c]);
  }
  // [sub-block j x2 for j = 0..3] and for j = 4..7 (i32 lanes: shufps), 16 products a lane: at most 30480, still int16
  v128_t u03 = wasm_i16x8_add(wasm_i32x4_shuffle(t[0], t[1], 0, 2, 4, 6), wasm_i32x4_shuffle(t[0], t[1], 1, 3, 5, 7));
  v128_t u47 = wasm_i16x8_add(wasm_i32x4_shuffle(t[2], t[3], 0, 2, 4, 6), wasm_i32x4_shuffle(t[2], t[3], 1, 3, 5, 7));
  // each lane pair times its sub-block's scale, widened: [scale_j dot_j] (punpcklwd / punpckhwd)
  v128_t scales03 = wasm_i16x8_shuffle(scales16, scales16, 0, 0, 1, 1, 2, 2, 3, 3), scales47 = wasm_i16x8_shuffle(scales16, scales16, 4, 4, 5, 5, 6, 6, 7, 7);
  return wasm_i32x4_add(wasm_i32x4_dot_i16x8(u03, scales03), wasm_i32x4_dot_i16x8(u47, scales47));
}

/** Four weight rows w at byte `at` (one super-block) against activation codes a and scales s: each row's acc and acc_min lane. */
static inline void q4_k_gemv4(const uint8_t* const* w, size_t at, const int8_t* a, const q8k_scales* s, v128_t* acc, v128_t* acc_min) {
  v128_t sums32 = q8_k_sums32(s);
  v128_t isum[4], imin[4];
  UNROLL for (int i = 0; i < 4; i++) {
    v128_t scales_mins = scales_mins_k4(w[i] + at + 4);
    isum[i] = q4_k_isum_lanes(w[i] + at, a, wasm_u16x8_extend_low_u8x16(scales_mins));
    imin[i] = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(scales_mins), sums32);
  }
  v128_t dx = wasm_f32x4_splat(s->d);
  v128_t d = wasm_f32x4_mul(wasm_f32x4_make(f16_at(w[0] + at), f16_at(w[1] + at), f16_at(w[2] + at), f16_at(w[3] + at)), dx);
  v128_t dmin = wasm_f32x4_mul(wasm_f32x4_make(f16_at(w[0] + at + 2), f16_at(w[1] + at + 2), f16_at(w[2] + at + 2), f16_at(w[3] + at + 2)), dx);
  *acc = fma_f32x4(wasm_f32x4_convert_i32x4(hsum4_i32(isum[0], isum[1], isum[2], isum[3])), d, *acc);
  *acc_min = fma_f32x4(wasm_f32x4_convert_i32x4(hsum4_i32(imin[0], imin[1], imin[2], imin[3])), dmin, *acc_min);
}

/** Four weight rows w (nb super-blocks) against one activation row (int8 codes a, scales s): the four outputs, into y. */
static void q4_k_gemv(const uint8_t* const* w, int nb, const int8_t* a, const q8k_scales* s, float* y) {
  v128_t acc = wasm_f32x4_splat(0), acc_min = wasm_f32x4_splat(0);
  for (int b = 0; b < nb; b++) q4_k_gemv4(w, (size_t)b * Q4_K_BYTES, a + QK_K * b, s + b, &acc, &acc_min);
  wasm_v128_store(y, wasm_f32x4_sub(acc, acc_min));
}

/**
 * Four weight rows' super-block interleaved for the gemm rows: codes[k] holds chunk k (values
 * 4k..4k+3, nibbles 0..15) of row i in 32-bit lane i, so one activation chunk loaded into all four
 * lanes meets all four rows; scales[j] holds scale_j of row i in int16 lanes 2i and 2i + 1, mins[p]
 * [min_2p, min_2p+1] of row i there; d and dmin the rows' f16 scales as float32 lanes. 1248 bytes.
 */
typedef struct {
  v128_t codes[64];
  v128_t scales[8];
  v128_t mins[4];
  v128_t d, dmin;
} q4_k_x4;

/** Super-blocks interleaved at a time: 10 KiB on the stack, kept in L1 while the activation rows pass. */
#define GEMM_BLOCKS 8
/** Activation rows whose acc and acc_min are carried from one interleaved chunk of blocks to the next. */
#define GEMM_ROWS 64

/** The super-block at byte `at` of the four weight rows w, interleaved. */
static void q4_k_interleave4(const uint8_t* const* w, size_t at, q4_k_x4* out) {
  v128_t nibble = wasm_i8x16_splat(0x0f);
  UNROLL for (int c = 0; c < 4; c++) {
    // per row, the 16-value vectors 4c .. 4c + 3 (chunks 16c .. 16c + 15), then transposed by chunk
    v128_t v[4][4];
    UNROLL for (int i = 0; i < 4; i++) {
      v128_t q0 = wasm_v128_load(w[i] + at + 16 + 32 * c), q1 = wasm_v128_load(w[i] + at + 32 + 32 * c);
      // (16-bit shifts: the bits crossing into the neighbouring byte are masked off)
      v[0][i] = wasm_v128_and(q0, nibble);
      v[1][i] = wasm_v128_and(q1, nibble);
      v[2][i] = wasm_v128_and(wasm_u16x8_shr(q0, 4), nibble);
      v[3][i] = wasm_v128_and(wasm_u16x8_shr(q1, 4), nibble);
    }
    UNROLL for (int m = 0; m < 4; m++) transpose4(v[m], out->codes + 16 * c + 4 * m);
  }
  uint8_t sm[4][16];
  for (int i = 0; i < 4; i++) wasm_v128_store(sm[i], scales_mins_k4(w[i] + at + 4));
  for (int j = 0; j < 8; j++) out->scales[j] = wasm_i16x8_make(sm[0][j], sm[0][j], sm[1][j], sm[1][j], sm[2][j], sm[2][j], sm[3][j], sm[3][j]);
  for (int p = 0; p < 4; p++) {
    int m0 = 8 + 2 * p, m1 = 9 + 2 * p;
    out->mins[p] = wasm_i16x8_make(sm[0][m0], sm[0][m1], sm[1][m0], sm[1][m1], sm[2][m0], sm[2][m1], sm[3][m0], sm[3][m1]);
  }
  out->d = wasm_f32x4_make(f16_at(w[0] + at), f16_at(w[1] + at), f16_at(w[2] + at), f16_at(w[3] + at));
  out->dmin = wasm_f32x4_make(f16_at(w[0] + at + 2), f16_at(w[1] + at + 2), f16_at(w[2] + at + 2), f16_at(w[3] + at + 2));
}

/**
 * Sub-block j of two activation rows' super-blocks (int8 codes a, a2) against four interleaved
 * weight rows, each weight chunk loaded once for both: scale_j dot_j of row i in int32 lane i.
 */
static inline void q4_k_sub_block4x2(const q4_k_x4* w, const int8_t* a, const int8_t* a2, int j, v128_t* out, v128_t* out2) {
  // int16 pair sums of the eight chunks: at most 16 products of 15 * 127, 30480
  v128_t c = w->codes[8 * j];
  v128_t pairs = dot_u8_i8_pairs(c, wasm_v128_load32_splat(a + 32 * j)), pairs2 = dot_u8_i8_pairs(c, wasm_v128_load32_splat(a2 + 32 * j));
  UNROLL for (int k = 1; k < 8; k++) {
    c = w->codes[8 * j + k];
    pairs = wasm_i16x8_add(pairs, dot_u8_i8_pairs(c, wasm_v128_load32_splat(a + 32 * j + 4 * k)));
    pairs2 = wasm_i16x8_add(pairs2, dot_u8_i8_pairs(c, wasm_v128_load32_splat(a2 + 32 * j + 4 * k)));
    // (measured: a barrier every second chunk is faster than none, one or every chunk)
    if (k & 1) {
      step_barrier(pairs);
      step_barrier(pairs2);
    }
  }
  *out = wasm_i32x4_dot_i16x8(pairs, w->scales[j]);
  *out2 = wasm_i32x4_dot_i16x8(pairs2, w->scales[j]);
}

/** One activation row's accumulators: acc and acc_min, lane i for weight row i. */
typedef struct {
  v128_t acc, acc_min;
} q4_k_acc4;

/**
 * Two activation rows (int8 codes a, a2, scales s, s2) against four interleaved weight rows over n
 * super-blocks: each row's acc and acc_min fused-added once per pair of sub-blocks.
 */
static inline void q4_k_gemm_rows2(const q4_k_x4* w, int n, const int8_t* a, const q8k_scales* s, const int8_t* a2, const q8k_scales* s2,
                                   q4_k_acc4* out, q4_k_acc4* out2) {
  // in locals: the opaque pointers below might alias `out`, which would then stay in memory
  v128_t acc = out->acc, acc_min = out->acc_min, acc2 = out2->acc, acc_min2 = out2->acc_min;
  for (int b = 0; b < n; b++) {
    const q4_k_x4* wb = w + b;
    const int8_t* ab = a + QK_K * b;
    const int8_t* ab2 = a2 + QK_K * b;
    // opaque to LLVM's loop strength reduction, whose rewritten pointers lose the constant load offsets (an add per load)
    __asm__("" : "+r"(wb), "+r"(ab), "+r"(ab2));
    // each row's [sum_2p, sum_2p+1] as int32 p, loaded into every lane below
    int32_t pair_sums[8];
    wasm_v128_store(pair_sums, q8_k_sums32(s + b));
    wasm_v128_store(pair_sums + 4, q8_k_sums32(s2 + b));
    v128_t dx = wasm_f32x4_splat(s[b].d), dx2 = wasm_f32x4_splat(s2[b].d);
    v128_t d = wasm_f32x4_mul(wb->d, dx), dmin = wasm_f32x4_mul(wb->dmin, dx);
    v128_t d2 = wasm_f32x4_mul(wb->d, dx2), dmin2 = wasm_f32x4_mul(wb->dmin, dx2);
    UNROLL for (int p = 0; p < 4; p++) {
      v128_t x0, x1, y0, y1;
      q4_k_sub_block4x2(wb, ab, ab2, 2 * p, &x0, &y0);
      q4_k_sub_block4x2(wb, ab, ab2, 2 * p + 1, &x1, &y1);
      acc = fma_f32x4(wasm_f32x4_convert_i32x4(wasm_i32x4_add(x0, x1)), d, acc);
      acc2 = fma_f32x4(wasm_f32x4_convert_i32x4(wasm_i32x4_add(y0, y1)), d2, acc2);
      acc_min = fma_f32x4(wasm_f32x4_convert_i32x4(wasm_i32x4_dot_i16x8(wb->mins[p], wasm_v128_load32_splat(pair_sums + p))), dmin, acc_min);
      acc_min2 = fma_f32x4(wasm_f32x4_convert_i32x4(wasm_i32x4_dot_i16x8(wb->mins[p], wasm_v128_load32_splat(pair_sums + 4 + p))), dmin2, acc_min2);
      step_barrier(acc);
    }
  }
  *out = (q4_k_acc4){ acc, acc_min };
  *out2 = (q4_k_acc4){ acc2, acc_min2 };
}

/**
 * The gemm rows 0 .. rows - 1 (int8 codes a8, scales as; rows % 4 == 0) against weight rows
 * [first, end), four adjacent ones a pass: GEMM_BLOCKS super-blocks interleaved at a time for
 * GEMM_ROWS activation rows, two at a time.
 */
static void q4_k_gemm(const uint8_t* weight, int nb, const int8_t* a8, const q8k_scales* as, int rows, int width, int out_features, float* out,
                      int first, int end) {
  size_t row_bytes = (size_t)nb * Q4_K_BYTES;
  q4_k_x4 w[GEMM_BLOCKS];
  q4_k_acc4 acc[GEMM_ROWS];
  for (int o = first; o < end; o += 4) {
    const uint8_t* rows4[4] = { weight + o * row_bytes, weight + (o + 1) * row_bytes, weight + (o + 2) * row_bytes, weight + (o + 3) * row_bytes };
    for (int r0 = 0; r0 < rows; r0 += GEMM_ROWS) {
      int rn = rows - r0 < GEMM_ROWS ? rows - r0 : GEMM_ROWS;
      for (int r = 0; r < rn; r++) acc[r] = (q4_k_acc4){ wasm_f32x4_splat(0), wasm_f32x4_splat(0) };
      for (int b0 = 0; b0 < nb; b0 += GEMM_BLOCKS) {
        int n = nb - b0 < GEMM_BLOCKS ? nb - b0 : GEMM_BLOCKS;
        for (int b = 0; b < n; b++) q4_k_interleave4(rows4, (size_t)(b0 + b) * Q4_K_BYTES, w + b);
        for (int r = r0; r < r0 + rn; r += 2) {
          q4_k_gemm_rows2(w, n, a8 + (size_t)r * width + QK_K * b0, as + (size_t)r * nb + b0, a8 + (size_t)(r + 1) * width + QK_K * b0,
                          as + (size_t)(r + 1) * nb + b0, &acc[r - r0], &acc[r - r0 + 1]);
        }
      }
      for (int r = 0; r < rn; r++) {
        float y[4];
        wasm_v128_store(y, wasm_f32x4_sub(acc[r].acc, acc[r].acc_min));
        for (int i = 0; i < 4; i++) out[(size_t)(r0 + r) * out_features + o + i] = y[i];
      }
    }
  }
}

EXPORT void linear_q4_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  int gemm_rows = rows > 3 ? rows - rows % 4 : 0;
  size_t row_bytes = (size_t)nb * Q4_K_BYTES;
  const int8_t* a8 = q8k_codes8(aq, rows, width);
  thread_rows(out_features, GROUP, ith, nth, &first, &end);
  if (gemm_rows > 0) q4_k_gemm(weight, nb, a8, as, gemm_rows, width, out_features, out, first, end);
  if (gemm_rows == rows) return;
  // out_features % 8 == 0 (linear.ts): every thread's rows are GROUP streams `stride` apart, as in
  // linear_q4_0_q8_0, which the hardware prefetchers follow
  int stride = (end - first) / GROUP;
  for (int o = first; o < first + stride; o++) {
    const uint8_t* w[GROUP];
    for (int i = 0; i < GROUP; i++) w[i] = weight + (size_t)(o + i * stride) * row_bytes;
    for (int r = gemm_rows; r < rows; r++) {
      float y[GROUP];
      q4_k_gemv(w, nb, a8 + (size_t)r * width, as + (size_t)r * nb, y);
      for (int i = 0; i < GROUP; i++) out[(size_t)r * out_features + o + i * stride] = y[i];
    }
  }
}
