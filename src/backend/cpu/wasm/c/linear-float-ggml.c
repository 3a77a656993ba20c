// f32 and f16 weights x float32 activations in the llama.cpp numeric mode, rounding as ggml's CPU
// mul_mat does, as linearFloat in ops/ggml-dot.ts (tinyBlasDot and vecDot of ops/ggml-float.ts):
// - with >= 2 activation rows, the width whole vectors and out_features % 4 == 0, llamafile's
//   tinyBLAS (ggml-cpu/llamafile/sgemm.cpp) accumulates L float32 lanes (lane i mod L), then folds
//   them in halves;
// - otherwise ggml_vec_dot_f32 / ggml_vec_dot_f16 (ggml-cpu/vec.cpp) accumulate 4L lanes below
//   simd_end (the width rounded down to 4L), reduce them as GGML_F32_VEC_REDUCE does, and add the
//   leftover products: for f16 in float64, for f32 each rounded to float32, then added in float32.
// L = 16 with AVX-512, 8 with AVX2 (GGML_LANES). With f16 weights the activations are rounded to
// f16 first (round_to_f16), so each product is exact in float32 and a lane step is one float32
// add; with f32 weights a lane step is a fused multiply-add, emulated in float64 (fma_lanes_n).
#include "halves.h"

/** Four float32 values held as two float64x2 (fma_lanes accumulators) as one float32x4. */
static inline v128_t f32x4_of_pairs(const v128_t pairs[2]) {
  return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(pairs[0]), wasm_f32x4_demote_f64x2_zero(pairs[1]), 0, 1, 4, 5);
}

/** foldSum of L float32 lanes held in L / 4 vectors: upper half onto lower half until one lane is left. */
static inline float fold_vectors(v128_t* v, int L) {
  if (L == 16) {
    v[0] = wasm_f32x4_add(v[0], v[2]);
    v[1] = wasm_f32x4_add(v[1], v[3]);
  }
  v128_t t = wasm_f32x4_add(v[0], v[1]);
  t = wasm_f32x4_add(t, wasm_i32x4_shuffle(t, t, 2, 3, 2, 3));
  return wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1);
}

/** reduceAccumulators: four accumulators of L lanes (L vectors) halved onto each other, then summed as GGML_F32_VEC_REDUCE does. */
static inline float reduce_vectors(v128_t* v, int L) {
  int n = L / 4; // vectors per accumulator
  for (int i = 0; i < 2 * n; i++) v[i] = wasm_f32x4_add(v[i], v[i + 2 * n]);
  for (int i = 0; i < n; i++) v[i] = wasm_f32x4_add(v[i], v[i + n]);
  if (L == 16) return fold_vectors(v, 16);
  // AVX2: t_i = lane i + lane i + 4, then (t0 + t1) + (t2 + t3) (two _mm_hadd_ps)
  v128_t t = wasm_f32x4_add(v[0], v[1]);
  return (wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1)) + (wasm_f32x4_extract_lane(t, 2) + wasm_f32x4_extract_lane(t, 3));
}

/** Eight f16 as float32, lo: halves 0..3, hi: 4..7 (infinities and NaNs by table). */
static inline void f16x8_to_f32(const uint8_t* p, v128_t* lo, v128_t* hi) {
  v128_t h = wasm_v128_load(p);
  v128_t exponent = wasm_i16x8_splat(0x7c00);
  if (__builtin_expect(wasm_v128_any_true(wasm_i16x8_eq(wasm_v128_and(h, exponent), exponent)), 0)) {
    *lo = wasm_f32x4_make(f16_at(p), f16_at(p + 2), f16_at(p + 4), f16_at(p + 6));
    *hi = wasm_f32x4_make(f16_at(p + 8), f16_at(p + 10), f16_at(p + 12), f16_at(p + 14));
    return;
  }
  *lo = f16_finite_to_f32(h, 0);
  *hi = f16_finite_to_f32(h, 1);
}

/** tinyBLAS, f16 weights: out[a] for A activation rows x + a * width (f16 values) and one weight row w. */
static inline __attribute__((always_inline)) void tiny_f16(int L, int A, const uint8_t* w, const float* x, int width, float* out, int out_features) {
  v128_t acc[4][4];
  UNROLL for (int a = 0; a < A; a++) UNROLL for (int v = 0; v < L / 4; v++) acc[a][v] = wasm_f32x4_splat(0);
  for (int i0 = 0; i0 < width; i0 += L) {
    UNROLL for (int v = 0; v < L / 4; v += 2) {
      v128_t wv[2];
      f16x8_to_f32(w + 2 * (i0 + 4 * v), &wv[0], &wv[1]);
      UNROLL for (int u = 0; u < 2; u++)
        UNROLL for (int a = 0; a < A; a++) acc[a][v + u] = wasm_f32x4_add(wasm_f32x4_mul(wv[u], wasm_v128_load(x + (size_t)a * width + i0 + 4 * (v + u))), acc[a][v + u]);
    }
  }
  UNROLL for (int a = 0; a < A; a++) out[(size_t)a * out_features] = fold_vectors(acc[a], L);
}

/** tinyBLAS, f32 weights: one output, L fused lanes as float64 pairs. */
static inline __attribute__((always_inline)) float tiny_f32(int L, const float* w, const float* x, int width) {
  v128_t acc[8], p[8], lanes[4];
  UNROLL for (int v = 0; v < L / 2; v++) acc[v] = wasm_f64x2_splat(0);
  for (int i0 = 0; i0 < width; i0 += L) {
    UNROLL for (int v = 0; v < L / 2; v++)
      p[v] = wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(w + i0 + 2 * v)), wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(x + i0 + 2 * v)));
    fma_lanes_n(L / 2, acc, p);
  }
  UNROLL for (int v = 0; v < L / 4; v++) lanes[v] = f32x4_of_pairs(acc + 2 * v);
  return fold_vectors(lanes, L);
}

/**
 * ggml_vec_dot_f16 / _f32: one output. The 4L lanes are accumulated in passes over the row, 32
 * (f16) or 16 (f32, as float64 pairs) at a time, so that a pass's accumulators stay in registers.
 */
static inline __attribute__((always_inline)) float vec_dot(int f16, int L, const uint8_t* w, const float* x, int width, int simd_end) {
  v128_t all[16];
  if (f16) {
    for (int pass = 0; pass < L / 8; pass++) {
      v128_t acc[8];
      UNROLL for (int v = 0; v < 8; v++) acc[v] = wasm_f32x4_splat(0);
      for (int i0 = 32 * pass; i0 < simd_end; i0 += 4 * L) {
        UNROLL for (int v = 0; v < 8; v += 2) {
          v128_t wv[2];
          f16x8_to_f32(w + 2 * (i0 + 4 * v), &wv[0], &wv[1]);
          UNROLL for (int u = 0; u < 2; u++) acc[v + u] = wasm_f32x4_add(wasm_f32x4_mul(wv[u], wasm_v128_load(x + i0 + 4 * (v + u))), acc[v + u]);
        }
      }
      UNROLL for (int v = 0; v < 8; v++) all[8 * pass + v] = acc[v];
    }
    double s = reduce_vectors(all, L);
    for (int i = simd_end; i < width; i++) s += (double)(f16_at(w + 2 * i) * x[i]);
    return (float)s;
  }
  const float* wf = (const float*)w;
  for (int pass = 0; pass < L / 4; pass++) {
    v128_t acc[8], p[8];
    UNROLL for (int v = 0; v < 8; v++) acc[v] = wasm_f64x2_splat(0);
    for (int i0 = 16 * pass; i0 < simd_end; i0 += 4 * L) {
      UNROLL for (int v = 0; v < 8; v++)
        p[v] = wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(wf + i0 + 2 * v)), wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(x + i0 + 2 * v)));
      fma_lanes_n(8, acc, p);
    }
    UNROLL for (int v = 0; v < 4; v++) all[4 * pass + v] = f32x4_of_pairs(acc + 2 * v);
  }
  float s = reduce_vectors(all, L);
  for (int i = simd_end; i < width; i++) {
    float product = wf[i] * x[i];
    s = s + product;
  }
  return s;
}

static inline __attribute__((always_inline)) void linear_ggml(int f16, int L, const float* x, int rows, int width, const uint8_t* weight, int out_features,
                                                               float* out, int ith, int nth) {
  int tiny = rows >= 2 && width % L == 0 && out_features % 4 == 0;
  int simd_end = width & ~(4 * L - 1);
  size_t row_bytes = (size_t)width * (f16 ? 2 : 4);
  // tinyBLAS f16: activation rows sharing each converted weight vector, as many as keep 8 accumulators
  const int A = 32 / L;
  int first, end;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    const uint8_t* w = weight + o * row_bytes;
    float* y = out + o;
    int r = 0;
    if (tiny && f16) {
      for (; r + A <= rows; r += A) tiny_f16(L, A, w, x + (size_t)r * width, width, y + (size_t)r * out_features, out_features);
      for (; r < rows; r++) tiny_f16(L, 1, w, x + (size_t)r * width, width, y + (size_t)r * out_features, out_features);
    } else if (tiny) {
      for (; r < rows; r++) y[(size_t)r * out_features] = tiny_f32(L, (const float*)w, x + (size_t)r * width, width);
    } else {
      for (; r < rows; r++) y[(size_t)r * out_features] = vec_dot(f16, L, w, x + (size_t)r * width, width, simd_end);
    }
  }
}

/**
 * out[r, o] = x[r] . w[o] as ggml's mul_mat computes it, for f16 (`f16` = 1; x already rounded to
 * f16 values) or f32 weights, with `lanes` = GGML_LANES (8 or 16).
 */
EXPORT void linear_float_ggml(int f16, const float* x, int rows, int width, const uint8_t* weight, int out_features, float* out, int lanes, int ith,
                              int nth) {
  if (f16 && lanes == 16) linear_ggml(1, 16, x, rows, width, weight, out_features, out, ith, nth);
  else if (f16) linear_ggml(1, 8, x, rows, width, weight, out_features, out, ith, nth);
  else if (lanes == 16) linear_ggml(0, 16, x, rows, width, weight, out_features, out, ith, nth);
  else linear_ggml(0, 8, x, rows, width, weight, out_features, out, ith, nth);
}

/**
 * out[i] = x[i] rounded to the nearest f16 (as ggml converts activations for f16 weights), i < count.
 * Four lanes at a time where no lane rounds to infinity or is NaN: |x| + c - c with c = 2^(e + 13)
 * (e the exponent of |x|; 2^-1 below 2^-14, where f16's spacing stops shrinking) rounds |x| to 11
 * significant bits, ties to even, in two float32 operations; the sign goes back on after.
 */
EXPORT void round_to_f16(const float* x, int count, float* out, int ith, int nth) {
  int first, end;
  thread_rows(count, 64, ith, nth, &first, &end);
  int i = first;
  for (; i + 4 <= end; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t magnitude = wasm_v128_and(v, wasm_i32x4_splat(0x7fffffff));
    if (!wasm_i32x4_all_true(wasm_i32x4_lt(magnitude, wasm_i32x4_splat(0x477ff000)))) {
      for (int l = i; l < i + 4; l++) out[l] = F16_TO_F32[f32_to_f16(x[l])];
      continue;
    }
    v128_t c = wasm_i32x4_add(wasm_v128_and(magnitude, wasm_i32x4_splat(0x7f800000)), wasm_i32x4_splat(13 << 23));
    c = wasm_v128_bitselect(c, wasm_f32x4_splat(0.5f), wasm_i32x4_ge(magnitude, wasm_i32x4_splat(0x38800000)));
    v128_t rounded = wasm_f32x4_sub(wasm_f32x4_add(magnitude, c), c);
    wasm_v128_store(out + i, wasm_v128_or(rounded, wasm_v128_and(v, wasm_i32x4_splat((int)0x80000000))));
  }
  for (; i < end; i++) out[i] = F16_TO_F32[f32_to_f16(x[i])];
}
