// silu-ggml.c with relaxed SIMD: ggml_v_expf four lanes at a time (expf4-ggml-relaxed.h).
#include "expf4-ggml-relaxed.h"

EXPORT void silu_ggml(const float* x, int n, float* out, int avx512, int ith, int nth) {
  int first, end;
  thread_rows(n, 64, ith, nth, &first, &end);
  int i = first;
  for (; i + 4 <= end; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    int in_range;
    v128_t e = v_expf4(wasm_f32x4_neg(v), avx512, &in_range);
    if (in_range) {
      wasm_v128_store(out + i, wasm_f32x4_div(v, wasm_f32x4_add(wasm_f32x4_splat(1), e)));
    } else {
      for (int l = i; l < i + 4; l++) out[l] = x[l] / (1.0f + v_expf(-x[l], avx512));
    }
  }
  for (; i < end; i++) out[i] = x[i] / (1.0f + v_expf(-x[i], avx512));
}
