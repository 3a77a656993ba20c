// Relaxed SIMD (kernels-relaxed.wasm only, built with -mrelaxed-simd): x86's int8 dot product and
// fused multiply-add, which plain SIMD128 lacks. Their results may differ between machines where
// the spec leaves a choice; relaxed_simd_exact() (relaxed-probe.c) checks at load time that this
// machine made the choices ggml's x86 kernels make, and the runtime falls back to kernels.wasm if not.
#pragma once
#include "common.h"

/**
 * Four int32 lanes, each the sum of four consecutive products u_i * a_i, u read as unsigned
 * bytes 0..255, a as signed: x86's pmaddubsw + pmaddwd (ggml's mul_sum_us8_pairs_float). No
 * int16 pair may overflow: |u_i a_i + u_i+1 a_i+1| < 2^15, true whenever |a| <= 127.
 */
static inline v128_t dot_u8_i8(v128_t u, v128_t a) {
  return wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(a, u), wasm_i16x8_splat(1));
}

/** Eight int16 lanes, each u_2i a_2i + u_2i+1 a_2i+1 (pmaddubsw alone); see dot_u8_i8. */
static inline v128_t dot_u8_i8_pairs(v128_t u, v128_t a) { return wasm_i16x8_relaxed_dot_i8x16_i7x16(a, u); }

/** fmaf in four lanes (vfmadd). */
static inline v128_t fma_f32x4(v128_t a, v128_t b, v128_t c) { return wasm_f32x4_relaxed_madd(a, b, c); }

/**
 * A zero vector LLVM cannot see is zero. Compared with it, `x < 0` stays one i8x16.lt_s (x86:
 * pcmpgtb); against a known zero LLVM rewrites it as an arithmetic shift by 7, which V8 has to
 * emulate for bytes with five instructions.
 */
static inline v128_t opaque_zero(void) {
  int zero = 0;
  __asm__("" : "+r"(zero));
  return wasm_i8x16_splat(zero);
}

/** Signed byte codes w as x86's sign trick wants them (ggml's mul_sum_i8_pairs_float): |w| and the mask of w < 0. */
typedef struct {
  v128_t magnitude, negative;
} signed_codes;

/** `zero` from opaque_zero. Split once, a weight block serves every activation row it meets. */
static inline signed_codes split_sign(v128_t w, v128_t zero) {
  return (signed_codes){ wasm_i8x16_abs(w), wasm_i8x16_lt(w, zero) };
}

/** Four int32 lanes of sums of four products w_i * a_i of signed bytes (|a| <= 127): |w| . sign(a, w). */
static inline v128_t dot_split(signed_codes w, v128_t a) {
  return dot_u8_i8(w.magnitude, wasm_i8x16_sub(wasm_v128_xor(a, w.negative), w.negative));
}
