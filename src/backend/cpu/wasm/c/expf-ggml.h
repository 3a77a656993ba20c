// ggml_v_expf (ggml-cpu/vec.h; "adapted from arm limited optimized routine") for one lane, FMAs
// emulated exactly: shared by the softmax and SiLU kernels. As vExpf in ops/ggml-float.ts.
#pragma once
#include "common.h"

static inline float fmaf32(float a, float b, float c) { return fma32_exact_product((double)a * b, c); }

static inline double pow2(int n) { return f64_from_bits((uint64_t)(n + 1023) << 52); }

/** ggml_v_expf for one lane: AVX-512 (scalef) or AVX2 (exponent bits) form, by `avx512`. */
static float v_expf(float x, int avx512) {
  const float LOG2E = 0x1.715476p+0f, SHIFTER = 0x1.8p23f, LN2_HI = 0x1.62e4p-1f, LN2_LO = 0x1.7f7d1cp-20f;
  const float C4 = 0x1.0e4020p-7f, C3 = 0x1.573e2ep-5f, C2 = 0x1.555e66p-3f, C1 = 0x1.fffdb6p-2f, C0 = 0x1.ffffecp-1f;
  float z = fmaf32(x, LOG2E, SHIFTER);
  float n = z - SHIFTER;
  float b = fmaf32(-n, LN2_LO, fmaf32(-n, LN2_HI, x));
  float u = b * b;
  float hi = fmaf32(fmaf32(C4, b, C3), u, fmaf32(C2, b, C1));
  float an = n < 0 ? -n : n;
  if (avx512) {
    if (an > 192) return n <= 0 ? 0.0f : __builtin_inff();
    return (float)((double)fmaf32(hi, u, fmaf32(C0, b, 1.0f)) * pow2((int)n));
  }
  float j = fmaf32(hi, u, C0 * b);
  if (!(an > 126)) {
    float k = (float)pow2((int)n);
    return fmaf32(j, k, k);
  }
  if (an > 192) return n <= 0 ? 0.0f : __builtin_inff();
  double s1 = n <= 0 ? pow2(-125) : pow2(127);
  float s2 = (float)(pow2((int)n) / s1);
  return (float)((double)fmaf32(s2, j, s2) * s1);
}
