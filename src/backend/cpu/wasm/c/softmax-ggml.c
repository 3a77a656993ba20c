// Softmax of the llama.cpp numeric mode, rounding as ggml_compute_forward_soft_max_f32 with
// ggml_vec_soft_max_f32 and ggml_v_expf (ggml-cpu/ops.cpp, vec.cpp, vec.h), as softmaxRowGgml
// and vExpf in ops/: w = x * scale in float32, m = max w, e = expf(w - m) L values at a time,
// each group's lanes folded in float32 and added to a float64 sum, then e * (float)(1 / sum).
// Rows whose column j > i + causal_offset are masked (causal_offset < 0: no mask).
#include "expf-ggml.h"

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
