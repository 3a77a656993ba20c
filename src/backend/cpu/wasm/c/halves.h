// f16 and bf16 values in SIMD lanes as float32, shared by the float-activation kernels
// (c/linear-float.c, c/linear-float-ggml.c).
#pragma once
#include "common.h"

/** Halves 0..3 (`high`: 4..7) of h, each moved to the top of a 32-bit lane. */
static inline v128_t halves_on_top(v128_t h, int high) {
  v128_t zero = wasm_i16x8_splat(0);
  return high ? wasm_i16x8_shuffle(zero, h, 4, 12, 5, 13, 6, 14, 7, 15) : wasm_i16x8_shuffle(zero, h, 0, 8, 1, 9, 2, 10, 3, 11);
}

/**
 * Four finite f16 as float32: the sign stays on top, exponent and mantissa move 3 bits down under
 * it (an arithmetic shift, the copies of the sign masked off), which reads as the half times
 * 2^-112 — normal and subnormal halves alike — and the product with 2^112 is exact.
 */
static inline v128_t f16_finite_to_f32(v128_t h, int high) {
  v128_t bits = wasm_v128_and(wasm_i32x4_shr(halves_on_top(h, high), 3), wasm_i32x4_splat((int32_t)0x8fffffff));
  return wasm_f32x4_mul(bits, wasm_f32x4_splat(0x1p112f));
}
