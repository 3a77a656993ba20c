// The attention products of the llama.cpp numeric mode (q·Kᵀ and P·V, operands holding f16
// values, so every product is exact in float32) rounding as ggml's CPU mul_mat of f16 by f16, as
// matmulGgml in ops/matmul.ts: with >= 2 rows llamafile's tinyBLAS accumulates L float32 lanes
// (lane = p mod L) and folds them in halves (hsum); with one row ggml_vec_dot_f16 accumulates 4L
// lanes below simd_end, reduces them as GGML_F16_VEC_REDUCE does, and adds the leftover products
// in float64. L = 16 for ggml's AVX-512 variant, 8 for AVX2 (ops/ggml-float.ts, GGML_LANES).
//
// out[z, i, j] = sum_p A[z, i, p] * B[z, p, j]. A's rows are contiguous; B is addressed through
// strides, so a transposed K cache needs no copy. Batches start at a_batch[z] / b_batch[z]
// (element offsets: broadcast heads share one K/V). Threads split the batch x rows.
#include "common.h"

#define MAX_LANES 64
#define MAX_COLUMNS 1024

/** l[i] += l[i + count] for i < count (count a multiple of 4): one step of a halving reduction, four lanes at a time. */
static inline void add_upper(float* l, int count) {
  for (int i = 0; i < count; i += 4) wasm_v128_store(l + i, wasm_f32x4_add(wasm_v128_load(l + i), wasm_v128_load(l + i + count)));
}

/** hsum of L lanes folded in halves, each add rounded to float32 (foldSum). */
static float fold_lanes(float* l, int L) {
  int h = L >> 1;
  for (; h >= 4; h >>= 1) add_upper(l, h);
  for (; h >= 1; h >>= 1)
    for (int i = 0; i < h; i++) l[i] = l[i] + l[i + h];
  return l[0];
}

/** GGML_F16_VEC_REDUCE over four accumulators of L lanes (reduceAccumulators). */
static float reduce_accumulators(float* l, int L) {
  add_upper(l, 2 * L);
  add_upper(l, L);
  if (L == 16) return fold_lanes(l, 16);
  float t0 = l[0] + l[4], t1 = l[1] + l[5], t2 = l[2] + l[6], t3 = l[3] + l[7];
  return (t0 + t1) + (t2 + t3);
}

/**
 * dot_ggml's lanes summed and reduced with everything in registers, for contiguous b and `end`
 * whole steps, at least one (L and tiny constants once inlined): the same adds in the same order.
 */
static inline __attribute__((always_inline)) float dot_registers(const int L, const int tiny, const float* a, const float* b, int end) {
  const int V = tiny ? L / 4 : L; // vectors of lanes
  v128_t acc[16];
  // The lanes start as the first step's products, not 0 + them: that differs only for a product
  // of -0, which 0 + turns into +0 — and then only in the sign of a zero result (fixed below).
  UNROLL for (int v = 0; v < V; v++) acc[v] = wasm_f32x4_mul(wasm_v128_load(a + 4 * v), wasm_v128_load(b + 4 * v));
  for (int p = 4 * V; p < end; p += 4 * V) {
    UNROLL for (int v = 0; v < V; v++) acc[v] = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(a + p + 4 * v), wasm_v128_load(b + p + 4 * v)), acc[v]);
  }
  int n = V;
  if (!tiny) {
    // GGML_F16_VEC_REDUCE: the four accumulators of L lanes folded into one (reduce_accumulators)
    UNROLL for (int h = 0; h < 2; h++) {
      n /= 2;
      UNROLL for (int v = 0; v < n; v++) acc[v] = wasm_f32x4_add(acc[v], acc[v + n]);
    }
    if (L == 8) {
      v128_t t = wasm_f32x4_add(acc[0], acc[1]);
      float sum = (wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1)) + (wasm_f32x4_extract_lane(t, 2) + wasm_f32x4_extract_lane(t, 3));
      return sum == 0 ? 0.0f : sum; // lanes that start at +0 never sum to -0
    }
  }
  // fold_lanes: halves while whole vectors, then within the last one
  UNROLL for (; n > 1;) {
    n /= 2;
    UNROLL for (int v = 0; v < n; v++) acc[v] = wasm_f32x4_add(acc[v], acc[v + n]);
  }
  float l0 = wasm_f32x4_extract_lane(acc[0], 0) + wasm_f32x4_extract_lane(acc[0], 2);
  float l1 = wasm_f32x4_extract_lane(acc[0], 1) + wasm_f32x4_extract_lane(acc[0], 3);
  float sum = l0 + l1;
  return sum == 0 ? 0.0f : sum; // lanes that start at +0 never sum to -0
}

/** One output: row a (contiguous) times column b (stride bs). */
static float dot_ggml(const float* a, const float* b, int bs, int k, int L, int tiny, int simd_end) {
  int step = tiny ? L : 4 * L, end = tiny ? k : simd_end;
  if (bs == 1 && end > 0 && end % step == 0) {
    float s = L == 16 ? (tiny ? dot_registers(16, 1, a, b, end) : dot_registers(16, 0, a, b, end))
                      : (tiny ? dot_registers(8, 1, a, b, end) : dot_registers(8, 0, a, b, end));
    if (tiny || simd_end == k) return s;
    double sum = s;
    for (int p = simd_end; p < k; p++) sum += (double)(a[p] * b[p]);
    return (float)sum;
  }
  float lanes[MAX_LANES] = { 0 };
  if (bs == 1) {
    int p = 0;
    for (; p + step <= end; p += step)
      for (int v = 0; v < step; v += 4)
        wasm_v128_store(lanes + v, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(a + p + v), wasm_v128_load(b + p + v)), wasm_v128_load(lanes + v)));
    for (; p < end; p++) lanes[p % step] += a[p] * b[p];
  } else {
    for (int p = 0; p < end; p++) lanes[p % step] += a[p] * b[(size_t)p * bs];
  }
  if (tiny) return fold_lanes(lanes, L);
  double s = reduce_accumulators(lanes, L);
  for (int p = simd_end; p < k; p++) s += (double)(a[p] * b[(size_t)p * bs]);
  return (float)s;
}

/** x[j] += y[j] for j < n, four at a time. */
static inline void add_rows(float* x, const float* y, int n) {
  int j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(x + j, wasm_f32x4_add(wasm_v128_load(x + j), wasm_v128_load(y + j)));
  for (; j < n; j++) x[j] = x[j] + y[j];
}

/** A row of outputs at once when B's rows are contiguous (P·V): lanes x columns accumulators. */
static void row_ggml(const float* a, const float* b, int bk, int k, int n, float* out, int L, int tiny, int simd_end, float* acc) {
  int step = tiny ? L : 4 * L, end = tiny ? k : simd_end, n4 = n & ~3;
  for (int i = 0; i < step * n; i++) acc[i] = 0;
  for (int p = 0; p < end; p++) {
    float* lane = acc + (p % step) * n;
    const float* brow = b + (size_t)p * bk;
    v128_t av = wasm_f32x4_splat(a[p]);
    int j = 0;
    for (; j < n4; j += 4) wasm_v128_store(lane + j, wasm_f32x4_add(wasm_f32x4_mul(av, wasm_v128_load(brow + j)), wasm_v128_load(lane + j)));
    for (; j < n; j++) lane[j] += a[p] * brow[j];
  }
  // Reduce lanes for every column in the order dot_ggml does for one, four columns at a time.
  if (tiny) {
    for (int h = L >> 1; h >= 1; h >>= 1)
      for (int i = 0; i < h; i++) add_rows(acc + i * n, acc + (i + h) * n, n);
    for (int j = 0; j < n; j++) out[j] = acc[j];
    return;
  }
  for (int h = 2; h >= 1; h >>= 1)
    for (int i = 0; i < h * L; i++) add_rows(acc + i * n, acc + (i + h * L) * n, n);
  if (L == 16) {
    for (int h = 8; h >= 1; h >>= 1)
      for (int i = 0; i < h; i++) add_rows(acc + i * n, acc + (i + h) * n, n);
  } else {
    // t_i = l_i + l_i+4 (rows 0..3), then (t0 + t1) + (t2 + t3)
    for (int i = 0; i < 4; i++) add_rows(acc + i * n, acc + (i + 4) * n, n);
    add_rows(acc, acc + n, n);
    add_rows(acc + 2 * n, acc + 3 * n, n);
    add_rows(acc, acc + 2 * n, n);
  }
  for (int j = 0; j < n; j++) {
    double s = acc[j];
    for (int p = simd_end; p < k; p++) s += (double)(a[p] * b[(size_t)p * bk + j]);
    out[j] = (float)s;
  }
}

EXPORT void matmul_f16_ggml(const float* a, const int32_t* a_batch, int a_row_stride, const float* b, const int32_t* b_batch, int b_k_stride,
                            int b_n_stride, int batch, int m, int k, int n, float* out, int L, int tiny, int simd_end, float* scratch, int ith,
                            int nth) {
  int first, end;
  thread_rows(batch * m, 1, ith, nth, &first, &end);
  float* acc = scratch + (size_t)ith * 4 * L * n;
  for (int zi = first; zi < end; zi++) {
    int z = zi / m, i = zi % m;
    const float* arow = a + a_batch[z] + (size_t)i * a_row_stride;
    const float* bz = b + b_batch[z];
    float* y = out + (size_t)zi * n;
    if (b_n_stride == 1 && n <= MAX_COLUMNS) {
      row_ggml(arow, bz, b_k_stride, k, n, y, L, tiny, simd_end, acc);
    } else {
      for (int j = 0; j < n; j++) y[j] = dot_ggml(arow, bz + (size_t)j * b_n_stride, b_k_stride, k, L, tiny, simd_end);
    }
  }
}
