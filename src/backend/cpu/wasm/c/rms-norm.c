// RMSNorm of each row, rounding where ggml_rms_norm rounds (ggml-cpu/ops.cpp
// ggml_compute_forward_rms_norm_f32), as rmsNorm in ops/rms-norm.ts: squares in float32 summed in
// float64 in order, mean, mean + eps, sqrtf and 1.0f/ each rounded to float32, then x * scale.
#include "common.h"

EXPORT void rms_norm_f32(const float* x, int rows, int width, uint32_t eps_bits, float* out, int ith, int nth) {
  const float eps = f32_from_bits(eps_bits);
  int first, end;
  thread_rows(rows, 1, ith, nth, &first, &end);
  for (int r = first; r < end; r++) {
    const float* row = x + (size_t)r * width;
    float* y = out + (size_t)r * width;
    double sum = 0;
    for (int i = 0; i < width; i++) sum += (double)(row[i] * row[i]);
    const float mean = (float)(sum / width);
    const float scale = 1.0f / __builtin_sqrtf(mean + eps);
    for (int i = 0; i < width; i++) y[i] = row[i] * scale;
  }
}
