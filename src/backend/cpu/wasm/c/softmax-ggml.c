// Softmax of the llama.cpp numeric mode, rounding as ggml_compute_forward_soft_max_f32 with
// ggml_vec_soft_max_f32 and ggml_v_expf (ggml-cpu/ops.cpp, vec.cpp, vec.h), as softmaxRowGgml
// and vExpf in ops/: w = x * scale in float32, m = max w, e = expf(w - m) L values at a time,
// each group's lanes folded in float32 and added to a float64 sum, then e * (float)(1 / sum).
// Rows whose column j > i + causal_offset are masked (causal_offset < 0: no mask).
#include "softmax-row.h"

static double row_exponentials(const float* xr, int limit, int L, float scale, float max, float* y, int avx512) {
  double sum = 0;
  for (int j0 = 0; j0 < limit; j0 += L) sum += partial_group(xr, j0, j0 + L < limit ? j0 + L : limit, L, scale, max, y, avx512);
  return sum;
}
