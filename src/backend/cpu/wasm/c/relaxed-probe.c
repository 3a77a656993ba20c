// Whether this machine's relaxed SIMD behaves as the relaxed kernels need (see relaxed.h):
// relaxed_madd fused (one rounding) and the int8 dot reading bytes of 128 and up in its second
// operand as unsigned, exactly, without saturating. Returns 1 if so.
#include "relaxed.h"

EXPORT int relaxed_simd_exact(void) {
  // (1 + 2^-12)(1 - 2^-12) - 1 = -2^-24 when fused; 0 when the product is rounded first
  v128_t fused = fma_f32x4(wasm_f32x4_splat(1 + 0x1p-12f), wasm_f32x4_splat(1 - 0x1p-12f), wasm_f32x4_splat(-1));
  if (!wasm_i32x4_all_true(wasm_f32x4_eq(fused, wasm_f32x4_splat(-0x1p-24f)))) return 0;
  v128_t u = wasm_u8x16_make(128, 128, 255, 1, 0, 127, 200, 3, 128, 128, 7, 9, 15, 15, 250, 251);
  v128_t a = wasm_i8x16_make(127, 127, -127, 5, 100, -127, 127, -128, -127, -127, 1, -1, 127, 127, -3, 2);
  int expected[4] = { 128 * 127 * 2 - 255 * 127 + 5, -127 * 127 + 200 * 127 - 3 * 128, -128 * 127 * 2 + 7 - 9, 15 * 127 * 2 - 250 * 3 + 251 * 2 };
  v128_t got = dot_u8_i8(u, a);
  return wasm_i32x4_all_true(wasm_i32x4_eq(got, wasm_i32x4_make(expected[0], expected[1], expected[2], expected[3])));
}
