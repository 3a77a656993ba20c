// The attention products of the llama.cpp numeric mode (q·Kᵀ and P·V, operands holding f16
// values, so every product is exact in float32) rounding as ggml's CPU mul_mat of f16 by f16, as
// matmulGgml in ops/matmul.ts: with >= 2 rows llamafile's tinyBLAS (llamafile/sgemm.cpp,
// gemm_bloc) accumulates L float32 lanes (lane = p mod L) and folds them in halves (hsum); with
// one row ggml_vec_dot_f16 (ggml-cpu/vec.cpp) accumulates 4L lanes below simd_end, reduces them as
// GGML_F16_VEC_REDUCE does, and adds the leftover products in float64. L = 16 for ggml's AVX-512
// variant, 8 for AVX2 (ops/ggml-float.ts, GGML_LANES).
//
// out[z, i, j] = sum_p A[z, i, p] * B[z, p, j]. A's rows are contiguous; B is addressed through
// strides, one of which is 1 (attention.ts copies it otherwise), so a transposed K cache needs no
// copy. Batches start at a_batch[z] / b_batch[z] (element offsets: broadcast heads share one K/V).
// Threads split the batch x rows.
//
// Every float32 lane below does the adds of one of ggml's lanes in ggml's order; lanes are only
// ever put side by side, never merged differently. With B's columns contiguous (q·Kᵀ) a vector
// holds four of one output's lanes, as ggml's registers do, and the last adds of four outputs go
// together (dot_row). With B's rows contiguous (P·V) a vector holds one lane of four outputs
// (columns), and ggml's lanes are computed one after another (row_ggml).
#include "common.h"

#define MAX_LANES 64
#define ALWAYS_INLINE inline __attribute__((always_inline))

#ifdef __wasm_relaxed_simd__
// a * b + c rounded once (kernels-relaxed.wasm: x86's vfmadd). The products of f16 values are exact
// in float32, so this is the same float32 as the product rounded and then added: both builds agree.
#define MUL_ADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else
#define MUL_ADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

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

/** t's bits (count a power of two, t < count) in reverse order: the order a depth-first walk of a halving tree visits its leaves. */
static ALWAYS_INLINE int bit_reverse(int t, int count) {
  int r = 0;
  for (int c = count; c > 1; c >>= 1, t >>= 1) r = (r << 1) | (t & 1);
  return r;
}

/** Vectors of lanes accumulated at once over a row: more would not stay in registers. */
#define PASS_LANE_VECTORS 8

/** Lane vectors v0.. (at most PASS_LANE_VECTORS of V) of one output over whole steps of 4V products to `end`, into acc. */
static ALWAYS_INLINE void lane_pass(const int V, const int v0, const float* a, const float* b, int end, v128_t* acc) {
  const int P = V - v0 < PASS_LANE_VECTORS ? V - v0 : PASS_LANE_VECTORS;
  v128_t pass[PASS_LANE_VECTORS];
  UNROLL for (int v = 0; v < P; v++) pass[v] = wasm_f32x4_mul(wasm_v128_load(a + 4 * (v0 + v)), wasm_v128_load(b + 4 * (v0 + v)));
  for (int p = 4 * V; p < end; p += 4 * V) {
    UNROLL for (int v = 0; v < P; v++) {
      pass[v] = MUL_ADD(wasm_v128_load(a + p + 4 * (v0 + v)), wasm_v128_load(b + p + 4 * (v0 + v)), pass[v]);
      if (P > 4 && (v & 1)) step_barrier(pass[v]);
    }
  }
  UNROLL for (int v = 0; v < P; v++) acc[v] = pass[v];
}

/**
 * One output's lanes (row a times column b, both contiguous, `end` whole steps, at least one; L
 * and tiny constants once inlined) as ggml accumulates them — tinyBLAS's L lanes or vec_dot's
 * 4L, lane = p mod lanes — and halved (GGML_F16_VEC_REDUCE, hsum) until four lanes are left, whose
 * sums are finish_outputs'. (With vec_dot's AVX2 reduction, the four are t_i = l_i + l_i+4.)
 * Every halving of whole vectors adds vector v + n/2 to vector v, so one halving tree covers all.
 * V8 computes pure values just before their first use and so would load every vector before the
 * arithmetic, the loads all live at once and spilled: stores (step_barrier) keep the steps apart.
 */
static ALWAYS_INLINE v128_t dot_lanes(const int L, const int tiny, const int one_step, const float* a, const float* b, int end) {
  const int V = tiny ? L / 4 : L; // vectors of lanes
  // The lanes start as the first step's products, not 0 + them: that differs only for a product
  // of -0, which 0 + turns into +0 — and then only in the sign of a zero result (finish_outputs).
  if (one_step) {
    // One step: the lanes are the products, halved depth-first: pairs v, v + V/2 as the leaves.
    v128_t stack[4];
    int depth = 0;
    UNROLL for (int t = 0; t < V / 2; t++) {
      int v = bit_reverse(t, V / 2), w = v + V / 2;
      v128_t first = wasm_f32x4_mul(wasm_v128_load(a + 4 * v), wasm_v128_load(b + 4 * v));
      stack[depth++] = MUL_ADD(wasm_v128_load(a + 4 * w), wasm_v128_load(b + 4 * w), first);
      // a node whose two halves are done: after leaves 2, 4, 6, 8 one merge, after 4 and 8 a second, after 8 a third
      UNROLL for (int size = 2; size <= 8; size *= 2) {
        if ((t + 1) % size == 0) {
          stack[depth - 2] = wasm_f32x4_add(stack[depth - 2], stack[depth - 1]);
          depth--;
        }
      }
      if (t & 1) step_barrier(stack[depth - 1]);
    }
    return stack[0];
  }
  v128_t acc[16];
  lane_pass(V, 0, a, b, end, acc);
  if (V > PASS_LANE_VECTORS) lane_pass(V, PASS_LANE_VECTORS, a, b, end, acc + PASS_LANE_VECTORS);
  UNROLL for (int n = V / 2; n >= 1; n /= 2) UNROLL for (int v = 0; v < n; v++) acc[v] = wasm_f32x4_add(acc[v], acc[v + n]);
  return acc[0];
}

/**
 * The sums of four outputs' last four lanes d0..d3 (dot_lanes), one output a lane: (t0 + t1) +
 * (t2 + t3) for vec_dot's AVX2 reduction (`adjacent`: two _mm_hadd_ps), else the last two halvings
 * of fold_lanes, (l0 + l2) + (l1 + l3). A zero sum is +0: lanes that start at +0 never sum to -0.
 */
static ALWAYS_INLINE v128_t finish_outputs(const int adjacent, v128_t d0, v128_t d1, v128_t d2, v128_t d3) {
  v128_t s01, s23;
  if (adjacent) {
    s01 = wasm_f32x4_add(wasm_i32x4_shuffle(d0, d1, 0, 2, 4, 6), wasm_i32x4_shuffle(d0, d1, 1, 3, 5, 7));
    s23 = wasm_f32x4_add(wasm_i32x4_shuffle(d2, d3, 0, 2, 4, 6), wasm_i32x4_shuffle(d2, d3, 1, 3, 5, 7));
  } else {
    s01 = wasm_f32x4_add(wasm_i32x4_shuffle(d0, d1, 0, 1, 4, 5), wasm_i32x4_shuffle(d0, d1, 2, 3, 6, 7));
    s23 = wasm_f32x4_add(wasm_i32x4_shuffle(d2, d3, 0, 1, 4, 5), wasm_i32x4_shuffle(d2, d3, 2, 3, 6, 7));
  }
  v128_t sum = wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 2, 4, 6), wasm_i32x4_shuffle(s01, s23, 1, 3, 5, 7));
  return wasm_v128_and(sum, wasm_f32x4_ne(sum, wasm_f32x4_splat(0)));
}

/** vec_dot's leftover products p in [simd_end, k) of row a and column b (row stride bk) added to s in float64. */
static float add_leftovers(float s, const float* a, const float* b, size_t bk, int simd_end, int k) {
  double sum = s;
  for (int p = simd_end; p < k; p++) sum += (double)(a[p] * b[(size_t)p * bk]);
  return (float)sum;
}

/** A row of outputs whose columns of B are contiguous (q·Kᵀ), `end` whole steps of ggml's lanes: four outputs at a time. */
static ALWAYS_INLINE void dot_row(const int L, const int tiny, const int one_step, const float* a, const float* b, int bn, int k, int n, int end,
                                  int simd_end, float* y) {
  const int adjacent = !tiny && L == 8;
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* bj = b + (size_t)j * bn;
    v128_t d0 = dot_lanes(L, tiny, one_step, a, bj, end), d1 = dot_lanes(L, tiny, one_step, a, bj + bn, end);
    v128_t d2 = dot_lanes(L, tiny, one_step, a, bj + 2 * bn, end), d3 = dot_lanes(L, tiny, one_step, a, bj + 3 * (size_t)bn, end);
    wasm_v128_store(y + j, finish_outputs(adjacent, d0, d1, d2, d3));
  }
  for (; j < n; j++) {
    v128_t d = dot_lanes(L, tiny, one_step, a, b + (size_t)j * bn, end);
    y[j] = wasm_f32x4_extract_lane(finish_outputs(adjacent, d, d, d, d), 0);
  }
  if (!tiny && simd_end < k)
    for (j = 0; j < n; j++) y[j] = add_leftovers(y[j], a, b + (size_t)j * bn, 1, simd_end, k);
}

/** One output, column b contiguous, lanes in memory: k not whole steps of ggml's lanes. */
static float dot_ggml(const float* a, const float* b, int k, int L, int tiny, int simd_end) {
  int step = tiny ? L : 4 * L, end = tiny ? k : simd_end;
  float lanes[MAX_LANES] = { 0 };
  int p = 0;
  for (; p + step <= end; p += step)
    for (int v = 0; v < step; v += 4)
      wasm_v128_store(lanes + v, MUL_ADD(wasm_v128_load(a + p + v), wasm_v128_load(b + p + v), wasm_v128_load(lanes + v)));
  for (; p < end; p++) lanes[p % step] += a[p] * b[p];
  if (tiny) return fold_lanes(lanes, L);
  return add_leftovers(reduce_accumulators(lanes, L), a, b, 1, simd_end, k);
}

/** Columns 0..count-1 (count < 4) of a row of B at b, the other lanes 0. */
static inline v128_t load_columns(const float* b, int count) {
  v128_t v = wasm_v128_load32_zero(b);
  if (count > 1) v = wasm_v128_load32_lane(b + 1, v, 1);
  if (count > 2) v = wasm_v128_load32_lane(b + 2, v, 2);
  return v;
}

/** Column vectors (of four columns) whose lanes a P·V pass keeps: they fit on the stack. */
#define PASS_VECTORS 16
/** Column vectors whose lanes are computed together: a cache line of each row of B. */
#define BLOCK_VECTORS 4

/** Columns 4c.. of a block of B's row at `row` (`count` of the block's columns are there), the missing ones 0. */
static ALWAYS_INLINE v128_t load_block(const int partial, const float* row, int c, int count) {
  if (!partial) return wasm_v128_load(row + 4 * c);
  int have = count - 4 * c;
  return have >= 4 ? wasm_v128_load(row + 4 * c) : have <= 0 ? wasm_f32x4_splat(0) : load_columns(row + 4 * c, have);
}

/**
 * ggml's lane l of a block of columns (BLOCK_VECTORS vectors from b, `count` columns of them) of
 * a row of A whose B rows are contiguous (P·V), over its products in order. Lane l of tinyBLAS
 * sums p = l, l + L, ... Lane l of vec_dot's four accumulators reduced by GGML_F16_VEC_REDUCE is
 * (l_l + l_l+2L) + (l_l+L + l_l+3L): sub-lane s of the four sums p = l + sL, l + sL + 4L, ...;
 * `half` 0 stores sub-lanes 0 + 2 in `lane`, `half` 1 adds sub-lanes 1 + 3 to it. `full`: the
 * products below it are whole steps. Each call reads one cache line of each row it reads.
 */
static ALWAYS_INLINE void block_lane(const int L, const int tiny, const int partial, const float* a, const float* b, size_t bk, int full, int end,
                                     int l, int half, int count, v128_t* lane) {
  const int S = tiny ? 1 : 2, step = tiny ? L : 4 * L, C = BLOCK_VECTORS;
  v128_t acc[2][BLOCK_VECTORS];
  UNROLL for (int s = 0; s < S; s++) UNROLL for (int c = 0; c < C; c++) acc[s][c] = wasm_f32x4_splat(0);
  for (int base = l + half * L; base < full; base += step) {
    UNROLL for (int s = 0; s < S; s++) {
      int p = base + 2 * s * L;
      v128_t x = wasm_f32x4_splat(a[p]);
      UNROLL for (int c = 0; c < C; c++) acc[s][c] = MUL_ADD(x, load_block(partial, b + (size_t)p * bk, c, count), acc[s][c]);
    }
  }
  UNROLL for (int s = 0; s < S; s++) {
    int p = full + l + (half + 2 * s) * L;
    if (p >= end) break;
    v128_t x = wasm_f32x4_splat(a[p]);
    UNROLL for (int c = 0; c < C; c++) acc[s][c] = MUL_ADD(x, load_block(partial, b + (size_t)p * bk, c, count), acc[s][c]);
  }
  UNROLL for (int c = 0; c < C; c++) {
    if (tiny) lane[c] = acc[0][c];
    else if (!half) lane[c] = wasm_f32x4_add(acc[0][c], acc[1][c]);
    else lane[c] = wasm_f32x4_add(lane[c], wasm_f32x4_add(acc[0][c], acc[1][c]));
  }
}

/** ggml's L lanes of four columns folded as dot_ggml folds one output's (fold_lanes; reduce_accumulators' AVX2 end). */
static ALWAYS_INLINE v128_t fold_column_lanes(const int L, const int tiny, v128_t lanes[][PASS_VECTORS], int v) {
  if (tiny || L == 16) {
    UNROLL for (int h = L / 2; h >= 1; h /= 2) UNROLL for (int i = 0; i < h; i++) lanes[i][v] = wasm_f32x4_add(lanes[i][v], lanes[i + h][v]);
    return lanes[0][v];
  }
  // t_i = l_i + l_i+4, then (t0 + t1) + (t2 + t3)
  v128_t t0 = wasm_f32x4_add(lanes[0][v], lanes[4][v]), t1 = wasm_f32x4_add(lanes[1][v], lanes[5][v]);
  v128_t t2 = wasm_f32x4_add(lanes[2][v], lanes[6][v]), t3 = wasm_f32x4_add(lanes[3][v], lanes[7][v]);
  return wasm_f32x4_add(wasm_f32x4_add(t0, t1), wasm_f32x4_add(t2, t3));
}

/**
 * A row of outputs whose B rows are contiguous (P·V): ggml's lanes across four columns a vector,
 * one lane after another, then folded; vec_dot's leftovers after. A lane reads every L-th row of B
 * (16 KB apart in the KV cache: the same cache sets), so each lane is done for every column of a
 * pass before the next: each row is then read from memory once.
 */
static ALWAYS_INLINE void row_ggml(const int L, const int tiny, void (*lane_of_blocks)(const float*, const float*, size_t, int, int, int, int, int, v128_t*),
                                   const float* a, const float* b, int bk, int k, int n, int simd_end, float* y) {
  const int step = tiny ? L : 4 * L;
  int end = tiny ? k : simd_end, full = end - end % step;
  v128_t lanes[16][PASS_VECTORS];
  for (int j0 = 0; j0 < n; j0 += 4 * PASS_VECTORS) {
    int columns = n - j0 < 4 * PASS_VECTORS ? n - j0 : 4 * PASS_VECTORS;
    for (int l = 0; l < L; l++) {
      // a lane with no products (k short of a step) stays +0, and adding +0 to a lane changes nothing
      if (l >= end) {
        for (int v = 0; 4 * v < columns; v++) lanes[l][v] = wasm_f32x4_splat(0);
        continue;
      }
      for (int half = 0; half < (tiny || l + L >= end ? 1 : 2); half++)
        lane_of_blocks(a, b + j0, bk, full, end, l, half, columns, lanes[l]);
    }
    for (int v = 0; 4 * v < columns; v++) {
      v128_t sum = fold_column_lanes(L, tiny, lanes, v);
      if (4 * v + 4 <= columns) {
        wasm_v128_store(y + j0 + 4 * v, sum);
      } else {
        float sums[4];
        wasm_v128_store(sums, sum);
        for (int j = 4 * v; j < columns; j++) y[j0 + j] = sums[j - 4 * v];
      }
    }
  }
  if (!tiny && simd_end < k)
    for (int j = 0; j < n; j++) y[j] = add_leftovers(y[j], a, b + j, bk, simd_end, k);
}

// V8 allocates registers far better in small functions than in one with every variant inlined:
// each hot loop gets a function of its own, with L and tiny constants.
#define SPECIALIZE(L, T)                                                                                                                     \
  static __attribute__((noinline)) void dot_row_##L##_##T(const float* a, const float* b, int bn, int k, int n, int end, int simd_end, float* y) { \
    dot_row(L, T, 0, a, b, bn, k, n, end, simd_end, y);                                                                                        \
  }                                                                                                                                           \
  static __attribute__((noinline)) void dot_step_##L##_##T(const float* a, const float* b, int bn, int k, int n, int simd_end, float* y) {       \
    dot_row(L, T, 1, a, b, bn, k, n, T ? L : 4 * L, simd_end, y);                                                                              \
  }                                                                                                                                           \
  static __attribute__((noinline)) void lane_of_blocks_##L##_##T(const float* a, const float* b, size_t bk, int full, int end, int l, int half,   \
                                                                 int columns, v128_t* lane) {                                                 \
    int j = 0;                                                                                                                                \
    for (; j + 4 * BLOCK_VECTORS <= columns; j += 4 * BLOCK_VECTORS) block_lane(L, T, 0, a, b + j, bk, full, end, l, half, 0, lane + j / 4);    \
    if (j < columns) block_lane(L, T, 1, a, b + j, bk, full, end, l, half, columns - j, lane + j / 4);                                           \
  }                                                                                                                                           \
  static void output_row_##L##_##T(const float* a, const float* b, int b_k_stride, int b_n_stride, int k, int n, int simd_end, float* y) {       \
    if (b_n_stride == 1) return row_ggml(L, T, lane_of_blocks_##L##_##T, a, b, b_k_stride, k, n, simd_end, y);                                   \
    int step = T ? L : 4 * L, end = T ? k : simd_end;                                                                                          \
    if (end == step) return dot_step_##L##_##T(a, b, b_n_stride, k, n, simd_end, y);                                                           \
    if (end > 0 && end % step == 0) return dot_row_##L##_##T(a, b, b_n_stride, k, n, end, simd_end, y);                                         \
    for (int j = 0; j < n; j++) y[j] = dot_ggml(a, b + (size_t)j * b_n_stride, k, L, T, simd_end);                                             \
  }
SPECIALIZE(16, 0)
SPECIALIZE(16, 1)
SPECIALIZE(8, 0)
SPECIALIZE(8, 1)

EXPORT void matmul_f16_ggml(const float* a, const int32_t* a_batch, int a_row_stride, const float* b, const int32_t* b_batch, int b_k_stride,
                            int b_n_stride, int batch, int m, int k, int n, float* out, int L, int tiny, int simd_end, int ith, int nth) {
  void (*output_row)(const float*, const float*, int, int, int, int, int, float*) =
      L == 16 ? (tiny ? output_row_16_1 : output_row_16_0) : (tiny ? output_row_8_1 : output_row_8_0);
  int first, end;
  thread_rows(batch * m, 1, ith, nth, &first, &end);
  for (int zi = first; zi < end; zi++) {
    int z = zi / m, i = zi % m;
    output_row(a + a_batch[z] + (size_t)i * a_row_stride, b + b_batch[z], b_k_stride, b_n_stride, k, n, simd_end, out + (size_t)zi * n);
  }
}
