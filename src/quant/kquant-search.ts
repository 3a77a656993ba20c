// The scale searches behind ggml's K-quant reference quantizers, and the 6-bit scale/min packing
// that Q4_K and Q5_K share. Re-derived from ggml/src/ggml-quants.c (make_qx_quants, make_q3_quants,
// make_qkx2_quants, get_scale_min_k4; nearest_int is in ./block-io.ts) to give the same bits as
// that C code compiled with strict IEEE float32 arithmetic and no FMA contraction:
//
// - every operation the C code does in float is rounded with Math.fround (computing + - * / and
//   sqrt in float64 and rounding once to float32 is exact float32 arithmetic: 53 >= 2*24 + 2);
// - expressions are evaluated in C's order (`w*x*l` is (w*x)*l), nothing is fused;
// - C treats a NaN float as true, so tests of a float against zero are written `!== 0`.

import * as io from './block-io';

// Module-level copies: compiled to CommonJS, each use of an imported binding is a getter call.
const { GROUP_MAX_EPS, clamp, nearestInt, signedAbsMax } = io;

const fround = Math.fround;

const TENTH = fround(0.1);

// What the last symmetricSums call summed: sums[0] = Σ w·x·l, sums[1] = Σ w·l². A typed array,
// not two module-level `let`s: those made Q6_K quantization about 10% slower.
const sums = new Float64Array(2);

/**
 * The first step make_qx_quants (rmse_type 1) and make_q3_quants (do_rmse) share, also each trial
 * of make_qx_quants: codes l = clamp(nearest_int(iscale * x), -nmax, nmax - 1) for a group of n
 * values, and with weights w = x² the sums Σ w·x·l and Σ w·l² (into `sums`), accumulated in
 * float32 in element order. Stores l + bias at `codes` unless codes is null.
 */
function symmetricSums(
  x: Float32Array,
  xOffset: number,
  n: number,
  nmax: number,
  iscale: number,
  codes: Uint8Array | Int8Array | null,
  codesOffset: number,
  bias: number,
): void {
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xOffset + i];
    const l = clamp(nearestInt(fround(iscale * xi)), -nmax, nmax - 1);
    if (codes) codes[codesOffset + i] = l + bias;
    const w = fround(xi * xi);
    sumlx = fround(sumlx + fround(fround(w * xi) * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  sums[0] = sumlx;
  sums[1] = suml2;
}

/**
 * The start make_qx_quants and make_q3_quants share: max = the value of largest |x| in the group
 * (sign kept); an all-zero group (|max| < GROUP_MAX_EPS) gets codes 0 and returns 0. Otherwise the
 * codes (+ bias) and sums of symmetricSums for iscale = -nmax / max, and returns max.
 */
function symmetricStart(
  x: Float32Array,
  xOffset: number,
  n: number,
  nmax: number,
  codes: Uint8Array | Int8Array,
  codesOffset: number,
  bias: number,
): number {
  const max = signedAbsMax(x, xOffset, n);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    codes.fill(0, codesOffset, codesOffset + n);
    return 0;
  }
  symmetricSums(x, xOffset, n, nmax, fround(-nmax / max), codes, codesOffset, bias);
  return max;
}

/**
 * Symmetric scale for a group of n values, as make_qx_quants with rmse_type 1 and no importance
 * weights (the only way the reference quantizers call it; Q6_K uses it): x[i] ≈ scale * (codes[i] - nmax),
 * codes in 0..2*nmax-1, weights x². Starts from scale = max/-nmax, then tries the 18 scales
 * max/-(nmax ± 0.1k) and keeps the one with the best weighted least-squares fit.
 * Returns the scale; an all-zero group gets scale 0 and codes 0.
 */
export function fitSymmetricScale(
  x: Float32Array,
  xOffset: number,
  n: number,
  nmax: number,
  codes: Uint8Array,
  codesOffset: number,
): number {
  const max = symmetricStart(x, xOffset, n, nmax, codes, codesOffset, nmax);
  if (max === 0) return 0;
  let scale = sums[1] !== 0 ? fround(sums[0] / sums[1]) : 0;
  let best = fround(scale * sums[0]);
  for (let step = -9; step <= 9; step++) {
    if (step === 0) continue;
    const iscale = fround(-fround(nmax + fround(TENTH * step)) / max);
    symmetricSums(x, xOffset, n, nmax, iscale, null, 0, 0);
    const sumlx = sums[0];
    const suml2 = sums[1];
    if (suml2 > 0 && fround(sumlx * sumlx) > fround(best * suml2)) {
      // Redo the codes for this scale (the sums come out the same).
      symmetricSums(x, xOffset, n, nmax, iscale, codes, codesOffset, nmax);
      scale = fround(sumlx / suml2);
      best = fround(scale * sumlx);
    }
  }
  return scale;
}

/**
 * Symmetric scale for Q3_K's 16-value groups, as make_q3_quants with do_rmse (how quantize_row_q3_K_ref
 * calls it): x[i] ≈ scale * (codes[i] - nmax), codes in 0..2*nmax-1, weights x². Starts from
 * max/-nmax, then up to five passes that move single codes while that improves the weighted
 * least-squares fit. Returns the scale; an all-zero group gets scale 0 and codes 0.
 */
export function fitQ3Scale(
  x: Float32Array,
  xOffset: number,
  n: number,
  nmax: number,
  codes: Int8Array,
  codesOffset: number,
): number {
  if (symmetricStart(x, xOffset, n, nmax, codes, codesOffset, 0) === 0) return 0;
  let sumlx = sums[0];
  let suml2 = sums[1];
  for (let pass = 0; pass < 5; pass++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xOffset + i];
      const w = fround(xi * xi);
      const l = codes[codesOffset + i];
      // The sums without element i, then the code that suits them best.
      let slx = fround(sumlx - fround(fround(w * xi) * l));
      if (!(slx > 0)) continue;
      let sl2 = fround(suml2 - fround(fround(w * l) * l));
      const newL = clamp(nearestInt(fround(fround(xi * sl2) / slx)), -nmax, nmax - 1);
      if (newL === l) continue;
      slx = fround(slx + fround(fround(w * xi) * newL));
      sl2 = fround(sl2 + fround(fround(w * newL) * newL));
      if (sl2 > 0 && fround(fround(slx * slx) * suml2) > fround(fround(sumlx * sumlx) * sl2)) {
        codes[codesOffset + i] = newL;
        sumlx = slx;
        suml2 = sl2;
        changed++;
      }
    }
    if (changed === 0) break;
  }
  for (let i = 0; i < n; i++) codes[codesOffset + i] += nmax;
  return suml2 > 0 ? fround(sumlx / suml2) : 0;
}

/** How fitAffineScale searches: codes 0..nmax, iscale tried at (nmax + rmin + rdelta*k) / range, k = 0..steps. */
export interface AffineSearch {
  readonly nmax: number;
  readonly rmin: number;
  readonly rdelta: number;
  /** At least 1. */
  readonly steps: number;
  /** Minimise weighted |error| (Q2_K) instead of weighted squared error. */
  readonly absoluteError: boolean;
}

/** Result of fitAffineScale: x ≈ scale * code - min, min >= 0. */
export interface AffineFit {
  scale: number;
  min: number;
}

/**
 * Scale and min for a group of n values, as make_qkx2_quants (used by Q2_K, Q4_K, Q5_K):
 * x[i] ≈ scale * codes[i] - min with codes in 0..nmax, the min never below zero (it is subtracted).
 * Starts from the [min(x, 0), max(x)] range, then for each trial iscale solves the weighted
 * least-squares scale and min for the codes it gives and keeps the lowest weighted error.
 * `scratch` holds n trial codes. Writes the result into `fit`.
 */
export function fitAffineScale(
  x: Float32Array,
  xOffset: number,
  n: number,
  weights: Float32Array,
  search: AffineSearch,
  codes: Uint8Array,
  codesOffset: number,
  scratch: Uint8Array,
  fit: AffineFit,
): void {
  const { nmax, rmin, rdelta, steps, absoluteError } = search;
  const x0 = x[xOffset];
  let min = x0;
  let max = x0;
  let sumW = weights[0];
  let sumX = fround(sumW * x0);
  for (let i = 1; i < n; i++) {
    const xi = x[xOffset + i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const w = weights[i];
    sumW = fround(sumW + w);
    sumX = fround(sumX + fround(w * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    codes.fill(0, codesOffset, codesOffset + n);
    fit.scale = 0;
    fit.min = -min;
    return;
  }
  let iscale = fround(nmax / fround(max - min));
  let scale = fround(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xOffset + i];
    const l = clamp(nearestInt(fround(iscale * fround(xi - min))), 0, nmax);
    codes[codesOffset + i] = l;
    const diff = fround(fround(fround(scale * l) + min) - xi);
    bestError = fround(bestError + fround(weights[i] * (absoluteError ? Math.abs(diff) : fround(diff * diff))));
  }
  for (let step = 0; step <= steps; step++) {
    // `min` is the best fit so far, as in the C loop: later trials measure from it.
    iscale = fround(fround(fround(rmin + fround(rdelta * step)) + nmax) / fround(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xOffset + i];
      const l = clamp(nearestInt(fround(iscale * fround(xi - min))), 0, nmax);
      scratch[i] = l;
      const wl = fround(weights[i] * l);
      sumL = fround(sumL + wl);
      sumL2 = fround(sumL2 + fround(wl * l));
      sumXL = fround(sumXL + fround(wl * xi));
    }
    const det = fround(fround(sumW * sumL2) - fround(sumL * sumL));
    if (!(det > 0)) continue;
    let trialScale = fround(fround(fround(sumW * sumXL) - fround(sumX * sumL)) / det);
    let trialMin = fround(fround(fround(sumL2 * sumX) - fround(sumL * sumXL)) / det);
    if (trialMin > 0) {
      trialMin = 0;
      trialScale = fround(sumXL / sumL2);
    }
    let error = 0;
    for (let i = 0; i < n; i++) {
      const diff = fround(fround(fround(trialScale * scratch[i]) + trialMin) - x[xOffset + i]);
      error = fround(error + fround(weights[i] * (absoluteError ? Math.abs(diff) : fround(diff * diff))));
    }
    if (error < bestError) {
      codes.set(scratch.subarray(0, n), codesOffset);
      bestError = error;
      scale = trialScale;
      min = trialMin;
    }
  }
  fit.scale = scale;
  fit.min = -min;
}

// Q4_K/Q5_K pack 8 six-bit scales and 8 six-bit mins into 12 bytes (ggml's get_scale_min_k4):
//   bytes 0..3:  scale j (j < 4) in bits 0..5; bits 6..7 hold bits 4..5 of scale j+4
//   bytes 4..7:  min j   (j < 4) in bits 0..5; bits 6..7 hold bits 4..5 of min j+4
//   bytes 8..11: low nibble = bits 0..3 of scale j+4, high nibble = bits 0..3 of min j+4

/** Sub-block j's 6-bit scale from the 12 packed bytes at `offset`. */
export function scaleK4(src: Uint8Array, offset: number, j: number): number {
  return j < 4
    ? src[offset + j] & 63
    : (src[offset + j + 4] & 0xf) | ((src[offset + j - 4] >> 6) << 4);
}

/** Sub-block j's 6-bit min from the 12 packed bytes at `offset`. */
export function minK4(src: Uint8Array, offset: number, j: number): number {
  return j < 4 ? src[offset + j + 4] & 63 : (src[offset + j + 4] >> 4) | ((src[offset + j] >> 6) << 4);
}

/** Pack 8 scales and 8 mins (each 0..63) into the 12 bytes at `offset`. */
export function packScalesMinsK4(dst: Uint8Array, offset: number, scales: ArrayLike<number>, mins: ArrayLike<number>): void {
  for (let j = 0; j < 4; j++) {
    dst[offset + j] = scales[j] | ((scales[j + 4] >> 4) << 6);
    dst[offset + j + 4] = mins[j] | ((mins[j + 4] >> 4) << 6);
    dst[offset + j + 8] = (scales[j + 4] & 0xf) | ((mins[j + 4] & 0xf) << 4);
  }
}
