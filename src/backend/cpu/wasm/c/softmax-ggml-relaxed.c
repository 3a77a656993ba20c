// softmax-ggml.c with relaxed SIMD: each whole group of L exponentials four lanes at a time
// (expf4-ggml-relaxed.h) and its lanes folded four at a time while whole vectors remain — the
// same float32 operations in the same order as the plain kernel.
#include "expf4-ggml-relaxed.h"
#include "softmax-row.h"

/** e = expf(x * scale - max) for the 4 * V values of a whole group at x, stored at y; returns their fold (fold_lanes). */
static inline __attribute__((always_inline)) float group_exp(const int V, const float* x, float scale, float max, float* y, int avx512) {
  v128_t e[4];
  UNROLL for (int v = 0; v < V; v++) {
    v128_t d = wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(x + 4 * v), wasm_f32x4_splat(scale)), wasm_f32x4_splat(max));
    int in_range;
    e[v] = v_expf4(d, avx512, &in_range);
    if (!in_range) {
      float lanes[4];
      for (int l = 0; l < 4; l++) lanes[l] = v_expf(x[4 * v + l] * scale - max, avx512);
      e[v] = wasm_v128_load(lanes);
    }
    wasm_v128_store(y + 4 * v, e[v]);
  }
  UNROLL for (int n = V; n > 1;) {
    n /= 2;
    UNROLL for (int v = 0; v < n; v++) e[v] = wasm_f32x4_add(e[v], e[v + n]);
  }
  float l0 = wasm_f32x4_extract_lane(e[0], 0) + wasm_f32x4_extract_lane(e[0], 2);
  float l1 = wasm_f32x4_extract_lane(e[0], 1) + wasm_f32x4_extract_lane(e[0], 3);
  return l0 + l1;
}

static double row_exponentials(const float* xr, int limit, int L, float scale, float max, float* y, int avx512) {
  double sum = 0;
  int j0 = 0;
  for (; j0 + L <= limit; j0 += L) sum += L == 16 ? group_exp(4, xr + j0, scale, max, y + j0, avx512) : group_exp(2, xr + j0, scale, max, y + j0, avx512);
  if (j0 < limit) sum += partial_group(xr, j0, limit, L, scale, max, y, avx512);
  return sum;
}
