// Q8_0 / Q5_0 / Q4_0 weights x Q8_0 activations, rounding as ggml_vec_dot_q8_0_q8_0 /
// _q5_0_q8_0 / _q4_0_q8_0 (ggml-cpu/arch/x86/quants.c) and llamafile's tinyBLAS_Q0_AVX do, as
// linearQ0Lanes in ops/ggml-dot.ts: per 32-value block, eight int32 lanes of four products each,
// times f32(d_w * d_x), fused-added into eight float32 lanes; then hsum_float_8.
// (Q4_0 comes here only when its rows are not repacked: out_features % 8 != 0.)
// Block layouts: q0-blocks.h.
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
