// Weights of any type x float32 activations in the float numeric mode (LinearArgs.activationType
// null), as linear in ops/linear.ts defines it: each output the dot product of an activation row
// with the exactly dequantized weight row, which the reference sums in float64. Here, per 32-value
// group (value = d * code + offset, c/float-codes.h; the float types: d = 1, code = the value),
// float32 lanes sum code * x — four lanes of eight products, then the four lanes — and the group's
// sum times d is added in float64; the offsets times the activations' sums per 16 or 32 values
// (activation_sums, float64) are added after. A term of a group's sum passes through at most 10
// float32 roundings (its product, 7 adds in its lane, 2 across lanes), so
//   |result - exact| <= 10 u sum |d code x|,  u = 2^-24,
// plus the rounding of the result to float32; with centred codes sum |d code x| stays near
// sum |w x| (test/cpu-wasm-float.test.ts states the tolerance and measures the error).
//
// A weight row is decoded once for up to four activation rows; their float32 lanes go in one fold
// (lane i: activation row i % A, the fold's group i / A). Threads take weight rows.
#include "float-codes.h"
#include "halves.h"

/** Weight rows whose activation-row passes run back to back, so that the rows stay in cache. */
#define ROW_CHUNK 16

/** [sum(a), sum(b), sum(c), sum(d)] of four f32x4, each sum (l0 + l2) + (l1 + l3). */
static inline v128_t hsum4_f32(v128_t a, v128_t b, v128_t c, v128_t d) {
  v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/** Whether any of the 32 halves in h is an infinity or a NaN (all exponent bits set: the half shifted left by one is >= 0xf800). */
static inline int any_f16_special(const v128_t h[4]) {
  v128_t top = wasm_u16x8_max(wasm_u16x8_max(wasm_i16x8_shl(h[0], 1), wasm_i16x8_shl(h[1], 1)), wasm_u16x8_max(wasm_i16x8_shl(h[2], 1), wasm_i16x8_shl(h[3], 1)));
  v128_t exponent = wasm_i16x8_splat((int16_t)0xf800);
  return wasm_v128_any_true(wasm_i16x8_eq(wasm_v128_and(top, exponent), exponent));
}

/** int16 codes 0..3 (`high`: 4..7) of c as float32. */
static inline v128_t codes_to_f32(v128_t c, int high) {
  v128_t wide = high ? wasm_i32x4_extend_high_i16x8(c) : wasm_i32x4_extend_low_i16x8(c);
  // opaque to LLVM, which would otherwise merge widening and conversion into scalar conversions
  OPAQUE_VECTOR(wide);
  return wasm_f32x4_convert_i32x4(wide);
}

/**
 * acc[a] += w * (values 4k .. 4k + 3 of activation row a), for the A rows starting at xa[a]; then
 * the accumulators stored where V8 cannot drop them (every step for several rows, every other
 * step for one: measured fewest instructions). V8 schedules arithmetic late and loads in program
 * order: without the stores it would load a whole group's activations first and spill them.
 */
static inline __attribute__((always_inline)) void step(int A, v128_t w, const float* const* xa, int k, v128_t* acc) {
  UNROLL for (int a = 0; a < A; a++) acc[a] = wasm_f32x4_add(acc[a], wasm_f32x4_mul(w, wasm_v128_load(xa[a] + 4 * k)));
  if (A > 1 || (k & 1)) {
    volatile v128_t sink[4];
    UNROLL for (int a = 0; a < A; a++) sink[a] = acc[a];
  }
}

/**
 * acc[a] += the float32 lanes of code * x_a over group g (values 32g .. 32g + 31) of a weight row
 * (the float types: value * x_a), for A activation rows x_a = x + a * width. Returns the group's
 * d; `s` carries a block's scales from its first group to the others.
 */
static inline __attribute__((always_inline)) float group_dot(int type, int A, const uint8_t* row, int g, block_scales* s, const float* x, int width,
                                                              v128_t* acc) {
  // A base per row, opaque to LLVM: V8 then folds each load's offset into its address (LLVM's
  // loop strength reduction would address them from the group's end, at negative offsets, which
  // a wasm load cannot encode: each would become an add).
  const float* xa[4];
  UNROLL for (int a = 0; a < A; a++) {
    xa[a] = x + (size_t)a * width + 32 * g;
    __asm__("" : "+r"(xa[a]));
  }
  if (type == W_F32) {
    const float* w = (const float*)row + 32 * g;
    UNROLL for (int k = 0; k < 8; k++) step(A, wasm_v128_load(w + 4 * k), xa, k, acc);
    return 1;
  }
  if (type == W_F16 || type == W_BF16) {
    const uint8_t* p = row + 64 * g;
    v128_t h[4] = { wasm_v128_load(p), wasm_v128_load(p + 16), wasm_v128_load(p + 32), wasm_v128_load(p + 48) };
    if (type == W_F16 && __builtin_expect(any_f16_special(h), 0)) {
      float exact[32];
      for (int i = 0; i < 32; i++) exact[i] = f16_at(p + 2 * i);
      UNROLL for (int k = 0; k < 8; k++) step(A, wasm_v128_load(exact + 4 * k), xa, k, acc);
      return 1;
    }
    // bf16 is the top half of a float32
    UNROLL for (int k = 0; k < 8; k++) step(A, type == W_F16 ? f16_finite_to_f32(h[k >> 1], k & 1) : halves_on_top(h[k >> 1], k & 1), xa, k, acc);
    return 1;
  }
  int groups_per_block = block_values(type) / 32;
  const uint8_t* block = row + (size_t)(g / groups_per_block) * block_bytes(type);
  int j = g % groups_per_block;
  if (j == 0) read_block(type, block, s);
  v128_t c[4];
  decode_group(type, block, s, j, c);
  UNROLL for (int k = 0; k < 8; k++) step(A, codes_to_f32(c[k >> 1], k & 1), xa, k, acc);
  return s->d;
}

/** Value i of a row of a float type. */
static inline double float_value(int type, const uint8_t* row, int i) {
  if (type == W_F32) return ((const float*)row)[i];
  if (type == W_F16) return f16_at(row + 2 * i);
  return f32_from_bits((uint32_t)(row[2 * i] | row[2 * i + 1] << 8) << 16);
}

/**
 * Groups g0 .. g0 + n - 1 (n <= 4 / A) of a weight row against A activation rows, added to the
 * float64 lanes y01, y23: lane i holds activation row i % A, group g0 + i / A.
 */
static inline __attribute__((always_inline)) void fold_groups(int type, int A, int n, const uint8_t* row, int g0, block_scales* s, const float* x,
                                                               int width, v128_t* y01, v128_t* y23) {
  v128_t acc[4] = { wasm_f32x4_splat(0), wasm_f32x4_splat(0), wasm_f32x4_splat(0), wasm_f32x4_splat(0) };
  float d[4] = { 0, 0, 0, 0 };
  UNROLL for (int q = 0; q < 4 / A; q++) {
    if (q < n) d[q] = group_dot(type, A, row, g0 + q, s, x, width, acc + q * A);
  }
  v128_t sum = hsum4_f32(acc[0], acc[1], acc[2], acc[3]);
  v128_t sum23 = wasm_i32x4_shuffle(sum, sum, 2, 3, 2, 3);
  if (is_float_type(type)) {
    *y01 = wasm_f64x2_add(*y01, wasm_f64x2_promote_low_f32x4(sum));
    *y23 = wasm_f64x2_add(*y23, wasm_f64x2_promote_low_f32x4(sum23));
  } else {
    // float32 sum times f16 d: exact in float64
    v128_t scale = wasm_f32x4_make(d[0 / A], d[1 / A], d[2 / A], d[3 / A]);
    v128_t scale23 = wasm_i32x4_shuffle(scale, scale, 2, 3, 2, 3);
    *y01 = wasm_f64x2_add(*y01, wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(sum), wasm_f64x2_promote_low_f32x4(scale)));
    *y23 = wasm_f64x2_add(*y23, wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(sum23), wasm_f64x2_promote_low_f32x4(scale23)));
  }
}

/**
 * result[a] += the offsets of a weight row's values times the sums of activation row a's values
 * (xsums: one per offset_values, rows of width / offset_values), in float64.
 */
static inline __attribute__((always_inline)) void add_offsets(int type, int A, const uint8_t* row, const double* xsums, int width, double* result) {
  int sums_per_row = width / offset_values(type), blocks = width / block_values(type);
  v128_t t[4] = { wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0) };
  if (block_values(type) == 32) {
    int b = 0;
    for (; b + 4 <= blocks; b += 4) {
      v128_t off[2];
      legacy_offsets4(type, row + (size_t)b * block_bytes(type), off);
      UNROLL for (int a = 0; a < A; a++) {
        const double* xs = xsums + (size_t)a * sums_per_row + b;
        t[a] = wasm_f64x2_add(t[a], wasm_f64x2_add(wasm_f64x2_mul(off[0], wasm_v128_load(xs)), wasm_f64x2_mul(off[1], wasm_v128_load(xs + 2))));
      }
    }
    for (; b < blocks; b++) {
      double off = legacy_offset(type, row + (size_t)b * block_bytes(type));
      for (int a = 0; a < A; a++) result[a] += off * xsums[(size_t)a * sums_per_row + b];
    }
  } else {
    int per_block = 256 / offset_values(type);
    for (int b = 0; b < blocks; b++) {
      v128_t off[8];
      int n = kquant_offsets(type, row + (size_t)b * block_bytes(type), off);
      UNROLL for (int a = 0; a < A; a++) {
        const double* xs = xsums + (size_t)a * sums_per_row + b * per_block;
        UNROLL for (int i = 0; i < 8; i++) {
          if (i < n) t[a] = wasm_f64x2_add(t[a], wasm_f64x2_mul(off[i], wasm_v128_load(xs + 2 * i)));
        }
      }
    }
  }
  UNROLL for (int a = 0; a < A; a++) result[a] += wasm_f64x2_extract_lane(t[a], 0) + wasm_f64x2_extract_lane(t[a], 1);
}

/**
 * result[a] = the dot product of a weight row with activation row a of x (A = 1, 2 or 4 rows of
 * `width`; their sums per offset_values in xsums).
 */
static inline __attribute__((always_inline)) void row_dot(int type, int A, const uint8_t* row, const float* x, const double* xsums, int width,
                                                           double* result) {
  int groups = width / 32, per_fold = 4 / A, whole = groups - groups % per_fold;
  v128_t y01 = wasm_f64x2_splat(0), y23 = wasm_f64x2_splat(0);
  block_scales s;
  // whole folds without a test per group (one block of straight code each), then the rest
  for (int g0 = 0; g0 < whole; g0 += per_fold) fold_groups(type, A, per_fold, row, g0, &s, x, width, &y01, &y23);
  if (whole < groups) fold_groups(type, A, groups - whole, row, whole, &s, x, width, &y01, &y23);
  double lanes[4] = { wasm_f64x2_extract_lane(y01, 0), wasm_f64x2_extract_lane(y01, 1), wasm_f64x2_extract_lane(y23, 0), wasm_f64x2_extract_lane(y23, 1) };
  if (A == 1) result[0] = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  if (A == 2) result[0] = lanes[0] + lanes[2], result[1] = lanes[1] + lanes[3];
  if (A == 4) UNROLL for (int a = 0; a < 4; a++) result[a] = lanes[a];
  if (is_float_type(type)) {
    // the values past the last whole group
    for (int i = 32 * groups; i < width; i++) {
      double w = float_value(type, row, i);
      for (int a = 0; a < A; a++) result[a] += w * x[(size_t)a * width + i];
    }
  }
  if (has_offsets(type)) add_offsets(type, A, row, xsums, width, result);
}

static inline size_t row_bytes(int type, int width) {
  return type == W_F32 ? 4 * (size_t)width : type <= W_BF16 ? 2 * (size_t)width : (size_t)(width / block_values(type)) * block_bytes(type);
}

/** Weight rows [first, end) times activation rows [r, r + A). */
static inline __attribute__((always_inline)) void rows_dot(int type, int A, int first, int end, int r, const float* x, const double* xsums, int width,
                                                            const uint8_t* weight, int out_features, float* out) {
  const double* sums = has_offsets(type) ? xsums + (size_t)r * (width / offset_values(type)) : xsums;
  for (int o = first; o < end; o++) {
    double result[4];
    row_dot(type, A, weight + o * row_bytes(type, width), x + (size_t)r * width, sums, width, result);
    for (int a = 0; a < A; a++) out[(size_t)(r + a) * out_features + o] = (float)result[a];
  }
}

static inline __attribute__((always_inline)) void linear_float_typed(int type, const float* x, const double* xsums, int rows, int width,
                                                                      const uint8_t* weight, int out_features, float* out, int ith, int nth) {
  int first, end;
  thread_rows(out_features, 4, ith, nth, &first, &end);
  for (int o0 = first; o0 < end; o0 += ROW_CHUNK) {
    int o1 = o0 + ROW_CHUNK < end ? o0 + ROW_CHUNK : end;
    int r = 0;
    for (; r + 4 <= rows; r += 4) rows_dot(type, 4, o0, o1, r, x, xsums, width, weight, out_features, out);
    if (rows - r >= 2) {
      rows_dot(type, 2, o0, o1, r, x, xsums, width, weight, out_features, out);
      r += 2;
    }
    if (rows - r == 1) rows_dot(type, 1, o0, o1, r, x, xsums, width, weight, out_features, out);
  }
}

// One wasm function per type rather than one holding all fifteen, so that V8 optimizes each on its own.
#define TYPED(T)                                                                                                                       \
  static __attribute__((noinline)) void linear_float_##T(const float* x, const double* xsums, int rows, int width, const uint8_t* weight, \
                                                         int out_features, float* out, int ith, int nth) {                                \
    linear_float_typed(T, x, xsums, rows, width, weight, out_features, out, ith, nth);                                                   \
  }
TYPED(W_F32) TYPED(W_F16) TYPED(W_BF16)
TYPED(W_Q4_0) TYPED(W_Q4_1) TYPED(W_Q5_0) TYPED(W_Q5_1) TYPED(W_Q8_0)
TYPED(W_Q2_K) TYPED(W_Q3_K) TYPED(W_Q4_K) TYPED(W_Q5_K) TYPED(W_Q6_K)
TYPED(W_IQ4_NL) TYPED(W_IQ4_XS)
#undef TYPED

/**
 * out[r, o] = x[r] . w[o] for `rows` activation rows of `width` float32 values and `out_features`
 * weight rows of `type` (the W_ numbers of c/float-codes.h). xsums: activation_sums of x (per
 * offset_values) where the type has offsets. Quantized types need width a multiple of their block.
 */
EXPORT void linear_float(int type, const float* x, const double* xsums, int rows, int width, const uint8_t* weight, int out_features, float* out,
                         int ith, int nth) {
#define CASE(T) \
  case T: return linear_float_##T(x, xsums, rows, width, weight, out_features, out, ith, nth);
  switch (type) {
    CASE(W_F32) CASE(W_F16) CASE(W_BF16)
    CASE(W_Q4_0) CASE(W_Q4_1) CASE(W_Q5_0) CASE(W_Q5_1) CASE(W_Q8_0)
    CASE(W_Q2_K) CASE(W_Q3_K) CASE(W_Q4_K) CASE(W_Q5_K) CASE(W_Q6_K)
    CASE(W_IQ4_NL) CASE(W_IQ4_XS)
  }
#undef CASE
}

/** sums[i] = the float64 sum of the float32 values x[n i .. n i + n - 1], i < count. */
EXPORT void activation_sums(const float* x, int count, int n, double* sums, int ith, int nth) {
  int first, end;
  thread_rows(count, 1, ith, nth, &first, &end);
  for (int i = first; i < end; i++) {
    double s = 0;
    for (int l = 0; l < n; l++) s += x[(size_t)n * i + l];
    sums[i] = s;
  }
}
