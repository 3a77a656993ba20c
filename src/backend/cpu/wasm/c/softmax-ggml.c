// Softmax of the llama.cpp numeric mode, rounding as ggml_compute_forward_soft_max_f32 with
// ggml_vec_soft_max_f32 and ggml_v_expf (ggml-cpu/ops.cpp, vec.cpp, vec.h), as softmaxRowGgml
// and vExpf in ops/: w = x * scale in float32, m = max w, e = expf(w - m) L values at a time,
// each group's lanes folded in float32 and added to a float64 sum, then e * (float)(1 / sum).
// Rows whose column j > i + causal_offset are masked (causal_offset < 0: no mask).
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

EXPORT void softmax_ggml(const float* x, int rows, int n, int rows_per_matrix, uint32_t scale_bits, int causal_offset, float* out, int L,
                         int avx512, int ith, int nth) {
  float scale = f32_from_bits(scale_bits); // jobs pass int32 arguments only
  int first, end;
  thread_rows(rows, 1, ith, nth, &first, &end);
  float lanes[16];
  for (int r = first; r < end; r++) {
    const float* xr = x + (size_t)r * n;
    float* y = out + (size_t)r * n;
    int i = r % rows_per_matrix;
    int limit = causal_offset < 0 ? n : (i + causal_offset + 1 < n ? i + causal_offset + 1 : n);
    float max = -__builtin_inff();
    for (int j = 0; j < limit; j++) {
      float w = xr[j] * scale;
      if (w > max) max = w;
    }
    double sum = 0;
    for (int j0 = 0; j0 < limit; j0 += L) {
      for (int l = 0; l < L; l++) lanes[l] = 0;
      for (int j = j0; j < j0 + L && j < limit; j++) lanes[j - j0] = y[j] = v_expf(xr[j] * scale - max, avx512);
      for (int h = L >> 1; h >= 1; h >>= 1)
        for (int l = 0; l < h; l++) lanes[l] = lanes[l] + lanes[l + h];
      sum += lanes[0];
    }
    float inv = (float)(1.0 / sum);
    for (int j = 0; j < n; j++) y[j] = j < limit ? y[j] * inv : 0.0f;
  }
}
