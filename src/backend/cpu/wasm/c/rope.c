// RoPE's rotation on [..., tokens, heads, head_dim], rounding as ggml's x86 builds compile
// rotate_pairs (ggml-cpu/ops.cpp: with FMA contraction, x0*cos - x1*sin is fmaf(x0, cos, -(x1*sin))
// and x0*sin + x1*cos is fmaf(x0, sin, x1*cos)), as rope in ops/rope.ts. The angles' cos and sin
// come from the caller (ops/rope.ts's ggml rope cache, per token: [cos0, sin0, cos1, sin1, ...]).
#include "common.h"

/** neox: pairs (i, i + dims/2) instead of (2i, 2i + 1). Values past `dims` in each head pass through. */
EXPORT void rope_f32(const float* x, int rows, int tokens, int heads, int head_dim, int dims, int neox, const float* angles, float* out, int ith, int nth) {
  int first, end;
  thread_rows(rows, 1, ith, nth, &first, &end);
  int half = dims / 2;
  for (int r = first; r < end; r++) {
    const float* cs = angles + (size_t)(r % tokens) * dims;
    for (int h = 0; h < heads; h++) {
      size_t o = ((size_t)r * heads + h) * head_dim;
      const float* xh = x + o;
      float* yh = out + o;
      for (int i = dims; i < head_dim; i++) yh[i] = xh[i];
      for (int i = 0; i < half; i++) {
        int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        float x0 = xh[a], x1 = xh[b], cos = cs[2 * i], sin = cs[2 * i + 1];
        yh[a] = fma32_exact_product((double)x0 * cos, -(x1 * sin));
        yh[b] = fma32_exact_product((double)x0 * sin, x1 * cos);
      }
    }
  }
}
