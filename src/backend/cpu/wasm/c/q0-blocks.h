// The legacy 32-value blocks the Q0 kernels read (ggml-common.h): block_q8_0 = f16 d + 32 int8
// codes (34 bytes); block_q5_0 = f16 d + uint32 qh (fifth bits) + 16 bytes of nibbles (22 bytes),
// value j = (nibble | fifth bit << 4) - 16, low nibbles values 0..15, high nibbles 16..31;
// block_q4_0 = f16 d + 16 bytes of nibbles (18 bytes), value = nibble - 8. Shared by both builds'
// linear-q0-lanes*.c and linear-q4_0*.c.
#pragma once
#include "common.h"

enum { Q8_0 = 0, Q5_0 = 1, Q4_0 = 2 };
static const int BLOCK_BYTES[3] = { 34, 22, 18 };
#define Q4_0_BYTES 18

/**
 * One 32-value Q8_0 block of four activation rows, interleaved for the batched kernels
 * (quantize_q8_0x4; our layout, not ggml's block_q8_0x4): codes[k] holds values 4k..4k+3 of row
 * 0, 1, 2, 3 in its four 32-bit lanes, so one load gives all four rows what a weight chunk meets;
 * then the rows' scales (f16 values as float32) and the sums of their codes. A group with fewer
 * than four rows has zero codes and scales in the rest.
 */
typedef struct {
  v128_t codes[8];
  v128_t d;
  v128_t sums;
} q8_0x4;

/** A block's 32 signed codes: values 0..15 in *lo, 16..31 in *hi. */
static inline void decode(int type, const uint8_t* block, v128_t* lo, v128_t* hi) {
  v128_t nibble = wasm_i8x16_splat(0x0f);
  if (type == Q8_0) {
    *lo = wasm_v128_load(block + 2);
    *hi = wasm_v128_load(block + 18);
  } else if (type == Q4_0) {
    v128_t packed = wasm_v128_load(block + 2);
    // a 16-bit shift (V8 emulates byte shifts), the bits crossing from the neighbouring byte masked off
    *lo = wasm_i8x16_sub(wasm_v128_and(packed, nibble), wasm_i8x16_splat(8));
    *hi = wasm_i8x16_sub(wasm_v128_and(wasm_u16x8_shr(packed, 4), nibble), wasm_i8x16_splat(8));
  } else {
    uint32_t qh = block[2] | (block[3] << 8) | (block[4] << 16) | ((uint32_t)block[5] << 24);
    v128_t packed = wasm_v128_load(block + 6);
    *lo = wasm_i8x16_sub(wasm_v128_or(wasm_v128_and(packed, nibble), fifth_bits(qh & 0xffff)), wasm_i8x16_splat(16));
    *hi = wasm_i8x16_sub(wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(packed, 4), nibble), fifth_bits(qh >> 16)), wasm_i8x16_splat(16));
  }
}

/** A block's 32 signed codes as int16, chunk k (values 4k..4k+3) twice in out[k]: what a plain-build batched kernel multiplies a q8_0x4 chunk by. */
static inline void chunks_i16(int type, const uint8_t* block, v128_t out[8]) {
  v128_t lo, hi;
  decode(type, block, &lo, &hi);
  v128_t v[4] = { wasm_i16x8_extend_low_i8x16(lo), wasm_i16x8_extend_high_i8x16(lo), wasm_i16x8_extend_low_i8x16(hi), wasm_i16x8_extend_high_i8x16(hi) };
  for (int c = 0; c < 4; c++) {
    out[2 * c] = wasm_i64x2_shuffle(v[c], v[c], 0, 0);
    out[2 * c + 1] = wasm_i64x2_shuffle(v[c], v[c], 1, 1);
  }
}

/**
 * linear_q0_lanes_x4 (both builds): a weight row's blocks are expanded LANES_BLOCKS at a time (9 KiB
 * on the stack at most) for up to LANES_GROUPS groups of four activation rows, whose eight lanes
 * each it carries from one expanded chunk to the next (4 KiB, 8 KiB as the plain build's float64).
 */
#define LANES_BLOCKS 32
#define LANES_GROUPS 32

/** (q4 - 8) . a over one Q4_0 block, exactly. */
static inline int q4_0_dot_scalar(const uint8_t* block, const int8_t* a) {
  int s = 0;
  for (int j = 0; j < 16; j++) s += ((block[2 + j] & 15) - 8) * a[j] + ((block[2 + j] >> 4) - 8) * a[j + 16];
  return s;
}

/** One output of the repacked Q4_0 rounding (a row left over from the kernels' groups): fused adds, one per block. */
static inline float q4_0_row(const uint8_t* w, int nb, const int8_t* aq, const float* ad) {
  float acc = 0;
  for (int b = 0; b < nb; b++) acc = fma32_exact_product((double)q4_0_dot_scalar(w + b * Q4_0_BYTES, aq + 32 * b) * (f16_at(w + b * Q4_0_BYTES) * ad[b]), acc);
  return acc;
}
