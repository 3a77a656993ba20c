// Shared by every kernel of the WASM CPU fast path (wasm32 + SIMD128, compiled by
// scripts/build-wasm.mjs). No libc: the module imports its memory and exports plain functions.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT __attribute__((visibility("default")))
/**
 * Hides a vector's value from LLVM's optimizer, which sometimes rewrites a vector conversion into
 * scalar ones. Only clang < 16 accepts a vector operand in inline asm; newer clangs (which build
 * kernels-relaxed.wasm) get no barrier, and their code for such a conversion is slower.
 */
#if __clang_major__ < 16
#define OPAQUE_VECTOR(v) __asm__("" : "+r"(v))
#else
#define OPAQUE_VECTOR(v) ((void)0)
#endif

/** Before a short fixed loop over vectors: unrolled, its arrays stay in locals (registers), not in memory. */
#define UNROLL _Pragma("clang loop unroll(full)")

static inline uint32_t f32_bits(float f) { union { float f; uint32_t u; } v = { .f = f }; return v.u; }
static inline float f32_from_bits(uint32_t u) { union { uint32_t u; float f; } v = { .u = u }; return v.f; }
static inline uint64_t f64_bits(double f) { union { double f; uint64_t u; } v = { .f = f }; return v.u; }
static inline double f64_from_bits(uint64_t u) { union { uint64_t u; double f; } v = { .u = u }; return v.f; }

/**
 * A store the compiled code keeps, between the steps of an unrolled loop. V8's TurboFan schedules
 * the loads of a long straight run of code ahead of the arithmetic that uses them: all the loaded
 * vectors are live at once and spill to the stack. Loads cannot move above a store, so one per
 * step keeps each step's loads beside their use.
 */
static inline void step_barrier(v128_t v) {
  volatile v128_t sink[1];
  sink[0] = v; // a store only: reading it back would cost a load for nothing
}

/** Every f16 as f32 (filled by init_tables). */
extern float F16_TO_F32[65536];

static inline float f16_at(const uint8_t* p) { return F16_TO_F32[p[0] | (p[1] << 8)]; }

/**
 * The f16 at each of four addresses, as float32 lanes: the 15 magnitude bits placed as float32 bits
 * and scaled by 2^112 (exact for normal and subnormal halves alike), infinities and NaNs rebuilt.
 */
static inline v128_t f16x4_to_f32(const uint8_t* p0, const uint8_t* p1, const uint8_t* p2, const uint8_t* p3) {
  v128_t h = wasm_i32x4_make(*(const uint16_t*)p0, *(const uint16_t*)p1, *(const uint16_t*)p2, *(const uint16_t*)p3);
  v128_t magnitude = wasm_f32x4_mul(wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13), wasm_f32x4_splat(0x1p112f));
  v128_t special = wasm_i32x4_eq(wasm_v128_and(h, wasm_i32x4_splat(0x7c00)), wasm_i32x4_splat(0x7c00));
  v128_t inf_nan = wasm_v128_or(wasm_i32x4_splat(0x7f800000), wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x3ff)), 13));
  return wasm_v128_or(wasm_v128_bitselect(inf_nan, magnitude, special), wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

/** f32 -> f16 bits, nearest even, NaN -> 0x7E00: ggml_compute_fp32_to_fp16 / F16C (as quant/half.ts). */
static inline uint16_t f32_to_f16(float x) {
  uint32_t w = f32_bits(x);
  uint32_t sign = (w >> 16) & 0x8000;
  uint32_t abs = w & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00;
  if (abs >= 0x477ff000) return sign | 0x7c00;
  if (abs < 0x38800000) return sign | (uint32_t)__builtin_nearbyintf(f32_from_bits(abs) * 16777216.0f);
  uint32_t r = abs - 0x38000000;
  return sign | ((r + 0xfff + ((r >> 13) & 1)) >> 13);
}

/**
 * fmaf(a, b, c) for float32 values whose product a*b is exact in float64: the float64 sum rounded
 * to float32, corrected where rounding twice differs from rounding once (the sum lies exactly
 * halfway between two float32 values but was itself rounded). As fma32 in ops/ggml-float.ts.
 */
static inline float fma32_exact_product(double p, float c) {
  double s = p + (double)c;
  float r = (float)s;
  if ((double)r == s) return r;
  double t = s - p;
  double e = (p - (s - t)) + ((double)c - t);
  if (e == 0) return r;
  double d = s - (double)r;
  double other = (double)r + 2 * d;
  if ((double)(float)other != other) return r;
  return ((e > 0) == (d > 0)) ? (float)other : r;
}

/**
 * Lanes of s = p + acc (float64) whose float32 rounding may differ from fmaf's single rounding:
 * s inexact and exactly halfway between two float32 values. Whether s is exact is Fast2Sum's test:
 * subtracting the larger operand from s is exact, so s is exact iff s - p == acc and s - acc == p.
 * (Exact ties — about one sum in a hundred — round the same either way and are not flagged.)
 */
static inline v128_t double_rounding(v128_t s, v128_t p, v128_t acc) {
  v128_t midpoint = wasm_i64x2_eq(wasm_v128_and(s, wasm_i64x2_splat(0x1fffffff)), wasm_i64x2_splat(0x10000000));
  v128_t inexact = wasm_v128_or(wasm_f64x2_ne(wasm_f64x2_sub(s, p), acc), wasm_f64x2_ne(wasm_f64x2_sub(s, acc), p));
  return wasm_v128_and(midpoint, inexact);
}

/** s rounded to float32 and back. */
static inline v128_t round_f32(v128_t s) {
  v128_t s32 = wasm_f32x4_demote_f64x2_zero(s);
  // opaque to LLVM, which would otherwise turn demote + promote into four scalar conversions
  OPAQUE_VECTOR(s32);
  return wasm_f64x2_promote_low_f32x4(s32);
}

/**
 * Two lanes of fmaf(p, 1, acc) — p exact products, acc float32 values, both as float64 — rounded
 * to float32 and back. The float64 sum rounds once more than fmaf does; the lanes where that
 * matters (double_rounding: far fewer than one in a million) are redone by fma32_exact_product.
 */
static inline v128_t fma_lanes(v128_t p, v128_t acc) {
  v128_t s = wasm_f64x2_add(p, acc);
  if (__builtin_expect(wasm_v128_any_true(double_rounding(s, p, acc)), 0)) {
    return wasm_f64x2_make(fma32_exact_product(wasm_f64x2_extract_lane(p, 0), (float)wasm_f64x2_extract_lane(acc, 0)),
                           fma32_exact_product(wasm_f64x2_extract_lane(p, 1), (float)wasm_f64x2_extract_lane(acc, 1)));
  }
  return round_f32(s);
}

/** fma_lanes on n <= 8 pairs of lanes (n a constant), with one branch for all of them. */
static inline __attribute__((always_inline)) void fma_lanes_n(int n, v128_t* acc, const v128_t* p) {
  v128_t s[8], flagged = wasm_i64x2_splat(0);
  for (int i = 0; i < n; i++) {
    s[i] = wasm_f64x2_add(p[i], acc[i]);
    flagged = wasm_v128_or(flagged, double_rounding(s[i], p[i], acc[i]));
  }
  if (__builtin_expect(wasm_v128_any_true(flagged), 0)) {
    for (int i = 0; i < n; i++) acc[i] = fma_lanes(p[i], acc[i]);
    return;
  }
  for (int i = 0; i < n; i++) acc[i] = round_f32(s[i]);
}

/** [sum(a), sum(b), sum(c), sum(d)] of four i32x4. */
static inline v128_t hsum4_i32(v128_t a, v128_t b, v128_t c, v128_t d) {
  v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/** The 4 x 4 int32 lanes of v transposed: out[k] lane r = v[r] lane k. */
static inline void transpose4(const v128_t v[4], v128_t out[4]) {
  v128_t t0 = wasm_i32x4_shuffle(v[0], v[1], 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(v[2], v[3], 0, 4, 1, 5);
  v128_t t2 = wasm_i32x4_shuffle(v[0], v[1], 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(v[2], v[3], 2, 6, 3, 7);
  out[0] = wasm_i64x2_shuffle(t0, t1, 0, 2);
  out[1] = wasm_i64x2_shuffle(t0, t1, 1, 3);
  out[2] = wasm_i64x2_shuffle(t2, t3, 0, 2);
  out[3] = wasm_i64x2_shuffle(t2, t3, 1, 3);
}

/** Rows [first, end) of `n` for thread `ith` of `nth`, in multiples of `group`. */
static inline void thread_rows(int n, int group, int ith, int nth, int* first, int* end) {
  int groups = (n + group - 1) / group;
  int per = (groups + nth - 1) / nth;
  int a = ith * per * group, b = (ith + 1) * per * group;
  *first = a < n ? a : n;
  *end = b < n ? b : n;
}

/** Bytes 0..15 set to 0x10 where bit j of the 16-bit `bits` is set (the fifth bits of Q5_0 / Q5_1). */
static inline v128_t fifth_bits(uint32_t bits) {
  v128_t both = wasm_i16x8_splat(bits);
  v128_t spread = wasm_i8x16_shuffle(both, both, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  v128_t mask = wasm_i8x16_make(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(spread, mask), mask), wasm_i8x16_splat(0x10));
}

/** Four int32 lanes, each the sum of four consecutive products of w and a. */
static inline v128_t lane_sums(v128_t w, v128_t a) {
  v128_t e0 = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extmul_low_i8x16(w, a));
  v128_t e1 = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extmul_high_i8x16(w, a));
  return wasm_i32x4_add(wasm_i32x4_shuffle(e0, e1, 0, 2, 4, 6), wasm_i32x4_shuffle(e0, e1, 1, 3, 5, 7));
}

/** hsum_float_8 (ggml-cpu/arch/x86/quants.c): eight float32 lanes folded 4, 2, 1, each add rounded to float32. */
static inline float hsum_float_8(const float* l) {
  float t0 = l[0] + l[4], t1 = l[1] + l[5], t2 = l[2] + l[6], t3 = l[3] + l[7];
  return (t0 + t2) + (t1 + t3);
}

/** hsum_float_8 of four rows at once: lanes[l] holds lane l of each row; every add rounded to float32, as ggml's. */
static inline v128_t hsum_float_8_x4(const v128_t lanes[8]) {
  v128_t t0 = wasm_f32x4_add(lanes[0], lanes[4]), t1 = wasm_f32x4_add(lanes[1], lanes[5]);
  v128_t t2 = wasm_f32x4_add(lanes[2], lanes[6]), t3 = wasm_f32x4_add(lanes[3], lanes[7]);
  return wasm_f32x4_add(wasm_f32x4_add(t0, t2), wasm_f32x4_add(t1, t3));
}

/** hsum_float_8 of eight float32 lanes held as four float64x2. */
static inline float hsum_float_8_f64x2(const v128_t acc[4]) {
  float l[8];
  for (int i = 0; i < 4; i++) {
    l[2 * i] = (float)wasm_f64x2_extract_lane(acc[i], 0);
    l[2 * i + 1] = (float)wasm_f64x2_extract_lane(acc[i], 1);
  }
  return hsum_float_8(l);
}

/**
 * Four float32 lanes, held as two float64x2 acc[0..1]: lane i = fmaf((float)isum[i], scale[i], lane i).
 * The int32 sums round to float32 first (the reference's fr(isum)); the product of two float32
 * values is exact in float64, so fma_lanes rounds it as fmaf does.
 */
static inline void fma_i32x4(v128_t acc[2], v128_t isum, v128_t scale) {
  v128_t f = wasm_f32x4_convert_i32x4(isum);
  v128_t p01 = wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(f), wasm_f64x2_promote_low_f32x4(scale));
  v128_t p23 = wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(f, f, 2, 3, 2, 3)),
                              wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(scale, scale, 2, 3, 2, 3)));
  acc[0] = fma_lanes(p01, acc[0]);
  acc[1] = fma_lanes(p23, acc[1]);
}
