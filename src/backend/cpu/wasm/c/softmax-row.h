// The softmax kernel of both builds (softmax-ggml.c, softmax-ggml-relaxed.c), all but the row's
// exponentials, which each build's file computes (row_exponentials): the causal mask's limit, the
// scaled maximum, a partial group's lanes folded, and the final scaling.
#pragma once
#include "expf-ggml.h"

/** Columns [0, limit) of row r that the causal mask keeps (causal_offset < 0: all n). */
static inline int softmax_limit(int r, int rows_per_matrix, int causal_offset, int n) {
  int i = r % rows_per_matrix;
  return causal_offset < 0 ? n : (i + causal_offset + 1 < n ? i + causal_offset + 1 : n);
}

/** max over j < limit of xr[j] * scale in float32 (-inf for none). */
static inline float scaled_max(const float* xr, int limit, float scale) {
  float max = -__builtin_inff();
  for (int j = 0; j < limit; j++) {
    float w = xr[j] * scale;
    if (w > max) max = w;
  }
  return max;
}

/** e = expf(x * scale - max) for columns [j0, limit) (fewer than L), into y; returns their L lanes (zeros beyond) folded in halves. */
static inline float partial_group(const float* xr, int j0, int limit, int L, float scale, float max, float* y, int avx512) {
  float lanes[16];
  for (int l = 0; l < L; l++) lanes[l] = 0;
  for (int j = j0; j < limit; j++) lanes[j - j0] = y[j] = v_expf(xr[j] * scale - max, avx512);
  for (int h = L >> 1; h >= 1; h >>= 1)
    for (int l = 0; l < h; l++) lanes[l] = lanes[l] + lanes[l + h];
  return lanes[0];
}

/** y[j] *= (float)(1 / sum) for j < limit, 0 beyond. */
static inline void softmax_scale(float* y, int limit, int n, double sum) {
  float inv = (float)(1.0 / sum);
  for (int j = 0; j < n; j++) y[j] = j < limit ? y[j] * inv : 0.0f;
}

/** e = expf(x * scale - max) for columns [0, limit) of xr, into y; returns the float64 sum of the groups' folded lanes. */
static double row_exponentials(const float* xr, int limit, int L, float scale, float max, float* y, int avx512);

EXPORT void softmax_ggml(const float* x, int rows, int n, int rows_per_matrix, uint32_t scale_bits, int causal_offset, float* out, int L,
                         int avx512, int ith, int nth) {
  float scale = f32_from_bits(scale_bits); // jobs pass int32 arguments only
  int first, end;
  thread_rows(rows, 1, ith, nth, &first, &end);
  for (int r = first; r < end; r++) {
    const float* xr = x + (size_t)r * n;
    float* y = out + (size_t)r * n;
    int limit = softmax_limit(r, rows_per_matrix, causal_offset, n);
    softmax_scale(y, limit, n, row_exponentials(xr, limit, L, scale, scaled_max(xr, limit, scale), y, avx512));
  }
}
