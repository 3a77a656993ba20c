// Q6_K weights x Q8_K activations, rounding as ggml_vec_dot_q6_K_q8_K (ggml-cpu/arch/x86/quants.c,
// the AVX2 path, also in AVX-512 builds), as linearQ6_K in ops/ggml-dot.ts. Per 256-value
// super-block, eight int32 lanes: lane t sums scale * q6 * q8 over the values 32c + 4t + u (c < 8,
// u < 4), the 6-bit codes unsigned (0..63), minus 32 * (scale * bsum) over the 16-value groups 2t
// and 2t + 1 (which stands for the codes' offset of 32); each lane rounded to float32 and
// fused-added times f32(d_x * d_w) into a float32 lane; then hsum_float_8. One weight row at a
// time: with more, V8 runs out of vector registers.
//
// Q6_K block (ggml-common.h block_q6_K, 210 bytes), two halves n = 0, 1 of 128 values:
//     0  ql[128]     low 4 bits: byte 64n + l holds value 128n + l (low nibble) and 128n + 64 + l
//                    (high nibble), l < 64
//   128  qh[64]      high 2 bits: byte 32n + l holds, from bit 0, those of values
//                    128n + l, 128n + 32 + l, 128n + 64 + l, 128n + 96 + l (l < 32)
//   192  scales[16]  int8 scale of each 16 values
//   208  f16 d
//   value = d * scale * (q6 - 32)
#include "kquants.h"

#define Q6_K_BYTES 210

/** One weight row's super-block against the activation codes a: its eight int32 lanes, 0..3 in lanes[0], 4..7 in lanes[1]. */
static inline void q6_k_lanes(const uint8_t* block, const int16_t* a, const q8k_scales* s, v128_t lanes[2]) {
  // pairs[h]: the 16-value groups 2c + h, whose values are lanes 4h .. 4h + 3
  v128_t pairs[2][2] = { { wasm_i32x4_splat(0), wasm_i32x4_splat(0) }, { wasm_i32x4_splat(0), wasm_i32x4_splat(0) } };
  const int8_t* scales = (const int8_t*)block + 192;
  v128_t low4 = wasm_i8x16_splat(0x0f), high2 = wasm_i8x16_splat(0x30);
  UNROLL for (int n = 0; n < 2; n++) {
    const uint8_t* ql = block + 64 * n;
    const uint8_t* qh = block + 128 + 32 * n;
    v128_t ql0 = wasm_v128_load(ql), ql1 = wasm_v128_load(ql + 16), ql2 = wasm_v128_load(ql + 32), ql3 = wasm_v128_load(ql + 48);
    v128_t qh0 = wasm_v128_load(qh), qh1 = wasm_v128_load(qh + 16);
    // the eight 16-value groups 8n + g of this half
    // (16-bit shifts: the bits crossing into the neighbouring byte are masked off)
    v128_t q[8] = {
      wasm_v128_or(wasm_v128_and(ql0, low4), wasm_v128_and(wasm_i16x8_shl(qh0, 4), high2)),
      wasm_v128_or(wasm_v128_and(ql1, low4), wasm_v128_and(wasm_i16x8_shl(qh1, 4), high2)),
      wasm_v128_or(wasm_v128_and(ql2, low4), wasm_v128_and(wasm_i16x8_shl(qh0, 2), high2)),
      wasm_v128_or(wasm_v128_and(ql3, low4), wasm_v128_and(wasm_i16x8_shl(qh1, 2), high2)),
      wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(ql0, 4), low4), wasm_v128_and(qh0, high2)),
      wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(ql1, 4), low4), wasm_v128_and(qh1, high2)),
      wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(ql2, 4), low4), wasm_v128_and(wasm_u16x8_shr(qh0, 2), high2)),
      wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(ql3, 4), low4), wasm_v128_and(wasm_u16x8_shr(qh1, 2), high2)),
    };
    UNROLL for (int g = 0; g < 8; g++) {
      add_scaled_pairs(pairs[g & 1], wasm_u16x8_extend_low_u8x16(q[g]), wasm_u16x8_extend_high_u8x16(q[g]), a + 16 * (8 * n + g), wasm_i16x8_splat(scales[8 * n + g]));
      step_barrier(pairs[g & 1][1]);
    }
  }
  v128_t scales8 = wasm_v128_load(scales);
  v128_t offset03 = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(scales8), wasm_v128_load(s->bsums));
  v128_t offset47 = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(scales8), wasm_v128_load(s->bsums + 8));
  lanes[0] = wasm_i32x4_sub(quad_sums(pairs[0]), wasm_i32x4_shl(offset03, 5));
  lanes[1] = wasm_i32x4_sub(quad_sums(pairs[1]), wasm_i32x4_shl(offset47, 5));
}

EXPORT void linear_q6_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  size_t row_bytes = (size_t)nb * Q6_K_BYTES;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) {
      v128_t acc[4] = { wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0) };
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = weight + o * row_bytes + (size_t)b * Q6_K_BYTES;
        const q8k_scales* s = as + (size_t)r * nb + b;
        v128_t lanes[2];
        q6_k_lanes(block, aq + (size_t)r * width + QK_K * b, s, lanes);
        v128_t dd = wasm_f32x4_splat(s->d * f16_at(block + 208));
        fma_i32x4(&acc[0], lanes[0], dd);
        fma_i32x4(&acc[2], lanes[1], dd);
      }
      out[(size_t)r * out_features + o] = hsum_float_8_f64x2(acc);
    }
  }
}
