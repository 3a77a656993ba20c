// Q6_K weights x Q8_K activations, rounding as ggml_vec_dot_q6_K_q8_K (ggml-cpu/arch/x86/quants.c,
// the AVX2 path, also in AVX-512 builds), as linearQ6_K in ops/ggml-dot.ts. Per 256-value
// super-block, eight int32 lanes: lane t sums scale * q6 * q8 over the values 32c + 4t + u (c < 8,
// u < 4), the 6-bit codes unsigned (0..63), minus 32 * (scale * bsum) over the 16-value groups 2t
// and 2t + 1 (which stands for the codes' offset of 32); each lane rounded to float32 and
// fused-added times f32(d_x * d_w) into a float32 lane; then hsum_float_8.
//
// Q6_K block (ggml-common.h block_q6_K, 210 bytes), two halves n = 0, 1 of 128 values:
//     0  ql[128]     low 4 bits: byte 64n + l holds value 128n + l (low nibble) and 128n + 64 + l
//                    (high nibble), l < 64
//   128  qh[64]      high 2 bits: byte 32n + l holds, from bit 0, those of values
//                    128n + l, 128n + 32 + l, 128n + 64 + l, 128n + 96 + l (l < 32)
//   192  scales[16]  int8 scale of each 16 values
//   208  f16 d
//   value = d * scale * (q6 - 32)
#pragma once
#include "kquants.h"

#define Q6_K_BYTES 210

/** The 6-bit codes (0..63) of half n of a super-block, as bytes: q[g] holds the 16-value group 8n + g. */
static inline void q6_k_codes(const uint8_t* block, int n, v128_t q[8]) {
  v128_t low4 = wasm_i8x16_splat(0x0f), high2 = wasm_i8x16_splat(0x30);
  const uint8_t* ql = block + 64 * n;
  const uint8_t* qh = block + 128 + 32 * n;
  v128_t ql0 = wasm_v128_load(ql), ql1 = wasm_v128_load(ql + 16), ql2 = wasm_v128_load(ql + 32), ql3 = wasm_v128_load(ql + 48);
  v128_t qh0 = wasm_v128_load(qh), qh1 = wasm_v128_load(qh + 16);
  // (16-bit shifts: the bits crossing into the neighbouring byte are masked off)
  q[0] = wasm_v128_or(wasm_v128_and(ql0, low4), wasm_v128_and(wasm_i16x8_shl(qh0, 4), high2));
  q[1] = wasm_v128_or(wasm_v128_and(ql1, low4), wasm_v128_and(wasm_i16x8_shl(qh1, 4), high2));
  q[2] = wasm_v128_or(wasm_v128_and(ql2, low4), wasm_v128_and(wasm_i16x8_shl(qh0, 2), high2));
  q[3] = wasm_v128_or(wasm_v128_and(ql3, low4), wasm_v128_and(wasm_i16x8_shl(qh1, 2), high2));
  q[4] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(ql0, 4), low4), wasm_v128_and(qh0, high2));
  q[5] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(ql1, 4), low4), wasm_v128_and(qh1, high2));
  q[6] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(ql2, 4), low4), wasm_v128_and(wasm_u16x8_shr(qh0, 2), high2));
  q[7] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(ql3, 4), low4), wasm_v128_and(wasm_u16x8_shr(qh1, 2), high2));
}

/** The int16 scales of the 16-value groups 8h .. 8h + 7. */
static inline v128_t q6_k_scales16(const uint8_t* block, int h) {
  v128_t scales8 = wasm_v128_load(block + 192);
  return h ? wasm_i16x8_extend_high_i8x16(scales8) : wasm_i16x8_extend_low_i8x16(scales8);
}

/**
 * What lanes 4h .. 4h + 3 subtract for the codes' offset of 32: lane t, 32 * scale * bsum over the
 * 16-value groups 8h + 2t and 8h + 2t + 1 (scales16: q6_k_scales16 of half h).
 */
static inline v128_t q6_k_offsets(v128_t scales16, const q8k_scales* s, int h) {
  return wasm_i32x4_shl(wasm_i32x4_dot_i16x8(scales16, wasm_v128_load(s->bsums + 8 * h)), 5);
}
