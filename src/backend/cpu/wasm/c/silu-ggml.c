// SiLU of the llama.cpp numeric mode, rounding as ggml_v_silu (ggml-cpu/vec.h): x / (1 + expf(-x))
// with ggml_v_expf, each step rounded to float32. As vSilu in ops/ggml-float.ts.
#include "expf-ggml.h"

EXPORT void silu_ggml(const float* x, int n, float* out, int avx512, int ith, int nth) {
  int first, end;
  thread_rows(n, 64, ith, nth, &first, &end);
  for (int i = first; i < end; i++) out[i] = x[i] / (1.0f + v_expf(-x[i], avx512));
}
