// Float32 arithmetic as ggml's x86 CPU kernels do it, for llama.cpp emulation: fused multiply-adds
// rounded once, vector accumulators of 8 or 16 float32 lanes and the order their lanes are summed,
// and ggml's vectorized expf / silu. Emulating a kernel with these gives ggml's float32 bits, not
// just ggml's value to within rounding — which matters wherever a result is rounded again (to f16
// for the KV cache and where q and the attention probabilities meet it, to int8 for a quantized
// activation): one float32 ulp of difference that lands on the other side of such a rounding
// boundary becomes a whole f16 / int8 step, and in a quantized model that step spreads.
//
// Which lane count applies depends on the ggml CPU variant llama.cpp loads (GGML_CPU_ALL_VARIANTS
// picks the best one for the CPU): 16 lanes (__m512) on AVX-512 machines, 8 (__m256) on AVX2 ones.
// `GGML_SIMD` is detected from /proc/cpuinfo; LLAMASCOPE_GGML_SIMD=avx2|avx512 overrides it.
// (Modules that call these in hot loops copy them into module-level consts: tsx compiles an
// imported binding to a getter call on every use.)

import { readFileSync } from 'node:fs';

const fr = Math.fround;

export type GgmlSimd = 'avx2' | 'avx512';

function detectSimd(): GgmlSimd {
  const forced = typeof process !== 'undefined' ? process.env.LLAMASCOPE_GGML_SIMD : undefined;
  if (forced === 'avx2' || forced === 'avx512') return forced;
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    // ggml's x86 AVX-512 variants (skylakex and up) need F, CD, VL, DQ and BW.
    if (['avx512f', 'avx512cd', 'avx512vl', 'avx512dq', 'avx512bw'].every((f) => flags.includes(f))) return 'avx512';
  } catch {
    // not Linux: assume the AVX2 variant
  }
  return 'avx2';
}

/** The x86 ggml CPU variant whose rounding llama.cpp mode reproduces (see useGgmlSimd). */
export let GGML_SIMD: GgmlSimd = detectSimd();
/** float32 lanes of one ggml vector register (GGML_F32_EPR): 16 with AVX-512, 8 with AVX2. */
export let GGML_LANES = GGML_SIMD === 'avx512' ? 16 : 8;

/**
 * Reproduce another x86 build of ggml's CPU backend from now on — e.g. to compare with a dump or
 * logits made by llama.cpp on an AVX2 machine when this one has AVX-512 (the lane width changes
 * the float32 rounding of sums). Returns the variant used until now.
 */
export function useGgmlSimd(simd: GgmlSimd): GgmlSimd {
  if (simd !== 'avx2' && simd !== 'avx512') throw new Error(`useGgmlSimd: '${simd}' is not one of avx2, avx512`);
  const previous = GGML_SIMD;
  GGML_SIMD = simd;
  GGML_LANES = simd === 'avx512' ? 16 : 8;
  return previous;
}

/**
 * fmaf(a, b, c) for float32 a, b, c: a*b + c rounded once to float32. a*b is exact in float64
 * (two 24-bit significands); the float64 sum is corrected where it lies exactly halfway between
 * two float32 values (the only case where rounding twice differs from rounding once).
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = fr(s);
  if (r === s) return r;
  const t = s - p;
  const e = p - (s - t) + (c - t); // s + e === p + c exactly (TwoSum)
  if (e === 0) return r;
  const d = s - r;
  const other = r + 2 * d; // the float32 on the far side of s, when s is a tie
  if (fr(other) !== other) return r;
  return e > 0 === d > 0 ? other : r;
}

/**
 * Sum of `n` float32 lanes (n a power of two) from `off`, folding the upper half onto the lower
 * half until one lane is left, each addition rounded to float32: hsum_float_8
 * (ggml-cpu/arch/x86/quants.c), llamafile's hsum (ggml-cpu/llamafile/sgemm.cpp), and GCC's
 * _mm512_reduce_add_ps. Overwrites the lanes.
 */
export function foldSum(lanes: Float64Array, off: number, n: number): number {
  for (let h = n >> 1; h >= 1; h >>= 1) {
    for (let i = 0; i < h; i++) lanes[off + i] = fr(lanes[off + i] + lanes[off + i + h]);
  }
  return lanes[off];
}

/**
 * GGML_F32_VEC_REDUCE / GGML_F16_VEC_REDUCE (ggml-cpu/simd-mappings.h) over `acc` accumulators of
 * GGML_LANES lanes each (stored one after another): accumulator i += accumulator i + acc/2,
 * halving until one is left, whose lanes are then summed — folded with AVX-512
 * (_mm512_reduce_add_ps), and with AVX2 as lo + hi halves followed by two _mm_hadd_ps.
 * Overwrites the lanes.
 */
export function reduceAccumulators(lanes: Float64Array, acc: number): number {
  const L = GGML_LANES;
  for (let h = acc >> 1; h >= 1; h >>= 1) {
    for (let i = 0; i < h * L; i++) lanes[i] = fr(lanes[i] + lanes[i + h * L]);
  }
  if (L === 16) return foldSum(lanes, 0, 16);
  const t0 = fr(lanes[0] + lanes[4]);
  const t1 = fr(lanes[1] + lanes[5]);
  const t2 = fr(lanes[2] + lanes[6]);
  const t3 = fr(lanes[3] + lanes[7]);
  return fr(fr(t0 + t1) + fr(t2 + t3));
}

/** A C hexadecimal float literal ('0x1.715476p+0') as a number (JavaScript has no such literal). */
export function hexFloat(literal: string): number {
  const m = /^(-?)0x([0-9a-f]+)\.?([0-9a-f]*)p([+-]?\d+)$/i.exec(literal);
  if (!m) throw new Error(`bad hex float ${literal}`);
  return (m[1] ? -1 : 1) * parseInt(m[2] + m[3], 16) * 2 ** (Number(m[4]) - 4 * m[3].length);
}

// ggml_v_expf's constants, as written in ggml-cpu/vec.h
const LOG2E = hexFloat('0x1.715476p+0');
const SHIFTER = hexFloat('0x1.8p23');
const LN2_HI = hexFloat('0x1.62e4p-1');
const LN2_LO = hexFloat('0x1.7f7d1cp-20');
const C4 = hexFloat('0x1.0e4020p-7');
const C3 = hexFloat('0x1.573e2ep-5');
const C2 = hexFloat('0x1.555e66p-3');
const C1 = hexFloat('0x1.fffdb6p-2');
const C0 = hexFloat('0x1.ffffecp-1');

/**
 * ggml_v_expf for one lane (ggml-cpu/vec.h; "adapted from arm limited optimized routine"): the
 * AVX-512 form scales the polynomial 1 + b*(...) by 2^n (vscalefps), the AVX2 form computes
 * k + k*j with k = 2^n built from the exponent bits. Both flush below about -104 to 0.
 */
export function vExpf(x: number): number {
  const z = fma32(x, LOG2E, SHIFTER);
  const n = fr(z - SHIFTER);
  const b = fma32(-n, LN2_LO, fma32(-n, LN2_HI, x));
  const u = fr(b * b);
  const hi = fma32(fma32(C4, b, C3), u, fma32(C2, b, C1));
  if (GGML_SIMD === 'avx512') {
    if (Math.abs(n) > 192) return n <= 0 ? 0 : Infinity;
    return fr(fma32(hi, u, fma32(C0, b, 1)) * 2 ** n);
  }
  const j = fma32(hi, u, fr(C0 * b));
  if (!(Math.abs(n) > 126)) {
    const k = 2 ** n;
    return fma32(j, k, k);
  }
  if (Math.abs(n) > 192) {
    // s1 * s1 with s1 = 2^-125 (n <= 0, underflows to 0) or 2^127 (overflows to infinity)
    return n <= 0 ? 0 : Infinity;
  }
  // s2 * (1 + j) * s1, with the exponent split between s1 = 2^-125 or 2^127 and s2 = 2^n / s1
  const s1 = n <= 0 ? 2 ** -125 : 2 ** 127;
  const s2 = 2 ** n / s1;
  return fr(fma32(s2, j, s2) * s1);
}

/** ggml_v_silu for one lane: x / (1 + ggml_v_expf(-x)), each step rounded to float32. */
export function vSilu(x: number): number {
  return fr(x / fr(1 + vExpf(-x)));
}

/**
 * Dot product of float32 vectors x[xo + i] and y[yo + i * ys] (i < k) as llamafile's tinyBLAS
 * (ggml-cpu/llamafile/sgemm.cpp, tinyBLAS::gemm_bloc) computes one output: GGML_LANES float32
 * FMA lanes (lane i % lanes), then hsum. ggml takes this path for batches of >= 2 rows when k is
 * a multiple of the lane count (and the weight's rows a multiple of 4). `f16`: both operands hold
 * f16 values, whose products are exact in float32, so the fused multiply-add is a rounded sum.
 */
export function tinyBlasDot(x: Float32Array, xo: number, y: Float32Array, yo: number, ys: number, k: number, f16: boolean, lanes: Float64Array): number {
  const L = GGML_LANES;
  lanes.fill(0, 0, L);
  for (let i0 = 0; i0 < k; i0 += L) {
    const n = Math.min(L, k - i0);
    let yi = yo + i0 * ys;
    if (f16) for (let l = 0; l < n; l++, yi += ys) lanes[l] = fr(x[xo + i0 + l] * y[yi] + lanes[l]);
    else for (let l = 0; l < n; l++, yi += ys) lanes[l] = fma32(x[xo + i0 + l], y[yi], lanes[l]);
  }
  return foldSum(lanes, 0, L);
}

/**
 * Dot product as ggml_vec_dot_f16 / ggml_vec_dot_f32 (ggml-cpu/vec.cpp) compute it for one row:
 * four accumulators of GGML_LANES float32 lanes over each 4 x lanes values below `simdEnd`,
 * reduced by GGML_F16_VEC_REDUCE / GGML_F32_VEC_REDUCE, then the leftover products added — in
 * float64 for f16; for f32 each product rounded to float32, then added to the float32 sum (not
 * fused: so live llama.cpp computes an F32 model of n_embd 96, whose last 32 values are leftovers;
 * test/forward-shapes.test.ts).
 */
export function vecDot(x: Float32Array, xo: number, y: Float32Array, yo: number, ys: number, k: number, simdEnd: number, f16: boolean, lanes: Float64Array): number {
  const step = 4 * GGML_LANES;
  lanes.fill(0, 0, step);
  for (let i0 = 0; i0 < simdEnd; i0 += step) {
    const n = Math.min(step, simdEnd - i0); // short only where llama.cpp's k is zero-padded
    let yi = yo + i0 * ys;
    if (f16) for (let l = 0; l < n; l++, yi += ys) lanes[l] = fr(x[xo + i0 + l] * y[yi] + lanes[l]);
    else for (let l = 0; l < n; l++, yi += ys) lanes[l] = fma32(x[xo + i0 + l], y[yi], lanes[l]);
  }
  let s = reduceAccumulators(lanes, 4);
  for (let i = simdEnd; i < k; i++) s = f16 ? s + fr(x[xo + i] * y[yo + i * ys]) : fr(s + fr(x[xo + i] * y[yo + i * ys]));
  return fr(s);
}
