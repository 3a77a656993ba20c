// Q2_K weights x Q8_K activations, as linearQ2_K in ops/ggml-dot.ts, in ggml's two roundings:
//
// - linear_q2_k_q8_k: ggml_vec_dot_q2_K_q8_K (ggml-cpu/arch/x86/quants.c, the AVX2 path). Per
//   256-value super-block eight float32 lanes take first f32(-d_x * dmin_w) * f32(m_t), m_t the
//   sum of min * bsum over the 16-value groups 2t and 2t + 1, then f32(d_x * d_w) * f32(isum_t),
//   isum_t the sum of scale * q2 * q8 over the values 32c + 4t + u (c < 8, u < 4), both fused;
//   hsum_float_8.
// - linear_q2_k_repacked_q8_k: on AVX-512 ggml repacks Q2_K rows in groups of 8 (q2_K_8x8,
//   out_features % 8 == 0) and multiplies with ggml_gemm_q2_K_8x8_q8_K (activation rows in groups
//   of four) and ggml_gemv_q2_K_8x8_q8_K (the rest) (ggml-cpu/arch/x86/repack.cpp): the exact sums
//   of scale * q2 * q8 and of min * bsum, rounded to float32, fused-added times f32(d_w * d_x) into
//   acc and times f32(dmin_w * d_x) into acc_min, gemm once per 128-value half, gemv once per
//   super-block; the result is acc - acc_min, as for Q4_K.
//
// Q2_K block (ggml-common.h block_q2_K, 84 bytes), two halves n = 0, 1 of 128 values:
//    0  scales[16]   per 16 values: the scale in the low nibble, the min in the high nibble
//   16  qs[64]       2-bit codes: bits 2j, 2j + 1 of byte 32n + l belong to value 128n + 32j + l
//   80  f16 d        scale of the scales
//   82  f16 dmin     scale of the mins
//   value = d * scale * q - dmin * min
#include "kquants.h"

#define Q2_K_BYTES 84

/**
 * One weight row's super-block against the activation codes a: scale * q2 * q8 summed into pairs
 * (add_scaled_pairs) of the 16-value groups 8n + 2j + h, in sums[h] (by_half 0: lanes 4h .. 4h + 3
 * of ggml_vec_dot) or sums[n] (by_half 1: the halves of the repacked kernels).
 */
static inline void q2_k_sums(const uint8_t* block, const int16_t* a, int by_half, v128_t sums[2][2]) {
  uint8_t scales[16];
  wasm_v128_store(scales, wasm_v128_and(wasm_v128_load(block), wasm_i8x16_splat(0x0f)));
  v128_t three = wasm_i8x16_splat(3);
  UNROLL for (int i = 0; i < 2; i++) sums[i][0] = sums[i][1] = wasm_i32x4_splat(0);
  UNROLL for (int n = 0; n < 2; n++) {
    v128_t qs[2] = { wasm_v128_load(block + 16 + 32 * n), wasm_v128_load(block + 32 + 32 * n) };
    UNROLL for (int j = 0; j < 4; j++) {
      UNROLL for (int h = 0; h < 2; h++) {
        int k = 8 * n + 2 * j + h;
        // (a 16-bit shift: the bits crossing into the neighbouring byte are masked off)
        v128_t q = wasm_v128_and(wasm_u16x8_shr(qs[h], 2 * j), three);
        v128_t* into = sums[by_half ? n : h];
        add_scaled_pairs(into, wasm_u16x8_extend_low_u8x16(q), wasm_u16x8_extend_high_u8x16(q), a + 16 * k, wasm_i16x8_splat(scales[k]));
        step_barrier(into[1]);
      }
    }
  }
}

/** min * bsum over the 16-value groups in pairs: [groups 0+1, 2+3, 4+5, 6+7] in *lo, 8.. 15 in *hi. */
static inline void q2_k_mins(const uint8_t* block, const q8k_scales* s, v128_t* lo, v128_t* hi) {
  v128_t mins = wasm_u8x16_shr(wasm_v128_load(block), 4);
  *lo = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(mins), wasm_v128_load(s->bsums));
  *hi = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(mins), wasm_v128_load(s->bsums + 8));
}

EXPORT void linear_q2_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  size_t row_bytes = (size_t)nb * Q2_K_BYTES;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) {
      v128_t acc[4] = { wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0) };
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = weight + o * row_bytes + (size_t)b * Q2_K_BYTES;
        const q8k_scales* s = as + (size_t)r * nb + b;
        v128_t sums[2][2], mins03, mins47;
        q2_k_sums(block, aq + (size_t)r * width + QK_K * b, 0, sums);
        q2_k_mins(block, s, &mins03, &mins47);
        v128_t dm = wasm_f32x4_splat(-s->d * f16_at(block + 82));
        fma_i32x4(&acc[0], mins03, dm);
        fma_i32x4(&acc[2], mins47, dm);
        v128_t dd = wasm_f32x4_splat(s->d * f16_at(block + 80));
        fma_i32x4(&acc[0], quad_sums(sums[0]), dd);
        fma_i32x4(&acc[2], quad_sums(sums[1]), dd);
      }
      out[(size_t)r * out_features + o] = hsum_float_8_f64x2(acc);
    }
  }
}

EXPORT void linear_q2_k_repacked_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                                      float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  int gemm_rows = rows > 3 ? rows - rows % 4 : 0;
  size_t row_bytes = (size_t)nb * Q2_K_BYTES;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) {
      v128_t acc = wasm_f64x2_splat(0); // [acc, acc_min]
      for (int b = 0; b < nb; b++) {
        const uint8_t* block = weight + o * row_bytes + (size_t)b * Q2_K_BYTES;
        const q8k_scales* s = as + (size_t)r * nb + b;
        v128_t sums[2][2], mins_lo, mins_hi;
        q2_k_sums(block, aq + (size_t)r * width + QK_K * b, 1, sums);
        q2_k_mins(block, s, &mins_lo, &mins_hi);
        // [sum of half 0, min sum of half 0, sum of half 1, min sum of half 1]
        v128_t halves = hsum4_i32(wasm_i32x4_add(sums[0][0], sums[0][1]), mins_lo, wasm_i32x4_add(sums[1][0], sums[1][1]), mins_hi);
        v128_t scale = wasm_f64x2_promote_low_f32x4(wasm_f32x4_mul(wasm_f32x4_make(f16_at(block + 80), f16_at(block + 82), 0, 0), wasm_f32x4_splat(s->d)));
        v128_t half1 = wasm_i32x4_shuffle(halves, halves, 2, 3, 2, 3);
        if (r < gemm_rows) {
          acc = fma_acc_min(acc, halves, scale);
          acc = fma_acc_min(acc, half1, scale);
        } else {
          acc = fma_acc_min(acc, wasm_i32x4_add(halves, half1), scale);
        }
      }
      out[(size_t)r * out_features + o] = (float)wasm_f64x2_extract_lane(acc, 0) - (float)wasm_f64x2_extract_lane(acc, 1);
    }
  }
}
