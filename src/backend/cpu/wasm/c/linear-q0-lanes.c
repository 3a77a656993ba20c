// Q8_0 / Q5_0 / Q4_0 weights x Q8_0 activations, rounding as ggml_vec_dot_q8_0_q8_0 /
// _q5_0_q8_0 / _q4_0_q8_0 (ggml-cpu/arch/x86/quants.c) and llamafile's tinyBLAS_Q0_AVX do, as
// linearQ0Lanes in ops/ggml-dot.ts: per 32-value block, eight int32 lanes of four products each,
// times f32(d_w * d_x), fused-added into eight float32 lanes; then hsum_float_8.
// (Q4_0 comes here only when its rows are not repacked: out_features % 8 != 0.)
// Block layouts: q0-blocks.h. linear_q0_lanes takes one activation row at a time;
// linear_q0_lanes_x4 four, from quantize_q8_0x4's interleaved groups.
#include "q0-blocks.h"

EXPORT void linear_q0_lanes(int type, const int8_t* aq, const float* ad, int rows, int width, const uint8_t* weight, int out_features,
                            float* out, int ith, int nth) {
  int nb = width / 32, first, end;
  size_t block_bytes = BLOCK_BYTES[type], row_bytes = nb * block_bytes;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    const uint8_t* w = weight + o * row_bytes;
    for (int r = 0; r < rows; r++) {
      const int8_t* a = aq + (size_t)r * width;
      const float* d = ad + (size_t)r * nb;
      v128_t acc[4] = { wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0) };
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = w + b * block_bytes;
        v128_t lo, hi;
        decode(type, block, &lo, &hi);
        v128_t s03 = lane_sums(lo, wasm_v128_load(a + 32 * b));
        v128_t s47 = lane_sums(hi, wasm_v128_load(a + 32 * b + 16));
        v128_t db = wasm_f64x2_splat((double)(f16_at(block) * d[b]));
        v128_t p[4] = {
          wasm_f64x2_convert_low_i32x4(s03), wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(s03, s03, 2, 3, 2, 3)),
          wasm_f64x2_convert_low_i32x4(s47), wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(s47, s47, 2, 3, 2, 3)),
        };
        for (int i = 0; i < 4; i++) p[i] = wasm_f64x2_mul(p[i], db);
        fma_lanes_n(4, acc, p);
      }
      float lanes[8];
      for (int i = 0; i < 4; i++) {
        lanes[2 * i] = (float)wasm_f64x2_extract_lane(acc[i], 0);
        lanes[2 * i + 1] = (float)wasm_f64x2_extract_lane(acc[i], 1);
      }
      out[(size_t)r * out_features + o] = hsum_float_8(lanes);
    }
  }
}

/** A weight row's block expanded for linear_q0_lanes_x4: chunks[k] as chunks_i16 (q0-blocks.h), d its scale in all lanes. */
typedef struct {
  v128_t chunks[8];
  v128_t d;
} q0_chunks_i16;

/**
 * One activation group against an expanded weight row over n blocks: lane k of rows 0-1 in
 * acc[2k], of rows 2-3 in acc[2k + 1] (float64x2), plus the block terms, in block order.
 */
static inline void group_lanes(const q0_chunks_i16* w, const q8_0x4* a, int n, v128_t acc[16]) {
  for (int b = 0; b < n; b++) {
    const q0_chunks_i16* wb = w + b;
    const q8_0x4* ab = a + b;
    v128_t dd = wasm_f32x4_mul(wb->d, ab->d);
    v128_t d01 = wasm_f64x2_promote_low_f32x4(dd), d23 = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(dd, dd, 2, 3, 2, 3));
    for (int half = 0; half < 2; half++) {
      v128_t p[8];
      UNROLL for (int c = 0; c < 4; c++) {
        int k = 4 * half + c;
        // pairs of products: [row 0, row 0, row 1, row 1] and rows 2, 3; then each row's lane k
        v128_t x = ab->codes[k];
        v128_t s01 = wasm_i32x4_dot_i16x8(wb->chunks[k], wasm_i16x8_extend_low_i8x16(x));
        v128_t s23 = wasm_i32x4_dot_i16x8(wb->chunks[k], wasm_i16x8_extend_high_i8x16(x));
        v128_t isum = wasm_i32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 2, 4, 6), wasm_i32x4_shuffle(s01, s23, 1, 3, 5, 7));
        p[2 * c] = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(isum), d01);
        p[2 * c + 1] = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(isum, isum, 2, 3, 2, 3)), d23);
      }
      fma_lanes_n(8, acc + 8 * half, p);
    }
  }
}

/** linear_q0_lanes for many activation rows (linear.ts: 10 or more), from quantize_q8_0x4's groups: one weight row a pass, each block expanded once for up to LANES_GROUPS groups. */
EXPORT void linear_q0_lanes_x4(int type, const q8_0x4* act, int rows, int width, const uint8_t* weight, int out_features, float* out, int ith, int nth) {
  int nb = width / 32, groups = (rows + 3) / 4, first, end;
  size_t row_bytes = (size_t)nb * BLOCK_BYTES[type];
  thread_rows(out_features, 1, ith, nth, &first, &end);
  q0_chunks_i16 w[LANES_BLOCKS];
  v128_t acc[LANES_GROUPS][16];
  for (int o = first; o < end; o++) {
    for (int g0 = 0; g0 < groups; g0 += LANES_GROUPS) {
      int gn = groups - g0 < LANES_GROUPS ? groups - g0 : LANES_GROUPS;
      for (int b0 = 0; b0 < nb; b0 += LANES_BLOCKS) {
        int n = nb - b0 < LANES_BLOCKS ? nb - b0 : LANES_BLOCKS;
        for (int b = 0; b < n; b++) {
          const uint8_t* block = weight + o * row_bytes + (size_t)(b0 + b) * BLOCK_BYTES[type];
          chunks_i16(type, block, w[b].chunks);
          w[b].d = wasm_f32x4_splat(f16_at(block));
        }
        for (int g = 0; g < gn; g++) {
          if (b0 == 0) for (int i = 0; i < 16; i++) acc[g][i] = wasm_f64x2_splat(0);
          group_lanes(w, act + (size_t)(g0 + g) * nb + b0, n, acc[g]);
        }
      }
      for (int g = 0; g < gn; g++) {
        // the lanes are float32 values (fma_lanes rounds them): as float32x4 of the four rows
        v128_t lanes[8];
        for (int k = 0; k < 8; k++) {
          v128_t lo = wasm_f32x4_demote_f64x2_zero(acc[g][2 * k]), hi = wasm_f32x4_demote_f64x2_zero(acc[g][2 * k + 1]);
          lanes[k] = wasm_i32x4_shuffle(lo, hi, 0, 1, 4, 5);
        }
        float y[4];
        wasm_v128_store(y, hsum_float_8_x4(lanes));
        for (int r = 0; r < 4 && 4 * (g0 + g) + r < rows; r++) out[(size_t)(4 * (g0 + g) + r) * out_features + o] = y[r];
      }
    }
  }
}
