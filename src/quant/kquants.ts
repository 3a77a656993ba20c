// ggml's "K-quants": super-blocks of QK_K = 256 values split into 16 or 8 sub-blocks, each sub-block
// with its own small integer scale (and min), those in turn scaled by f16 super-block factors.
// Layouts: ggml/src/ggml-common.h (block_q2_K .. block_q8_K). Math: ggml/src/ggml-quants.c
// (quantize_row_qN_K_ref, dequantize_row_qN_K); the scale searches are in ./kquant-search.ts.
//
// Bit-exactness with ggml: dequantization computes in float32 exactly as the C loops do (storing
// into a Float32Array rounds once, which is the C result of a single float operation; the inner
// steps of longer expressions are rounded with Math.fround). Quantization replays the reference
// quantizers with every float operation rounded to float32, nothing fused, C's integer narrowing
// (int -> int8_t/uint8_t keeps the low byte), and the f16-rounded super-block scales re-read
// where the C code re-reads them.

import type { BlockCodec, BlockFieldSpec, BlockFieldValues } from './codec';
import * as io from './block-io';
import {
  type AffineFit,
  type AffineSearch,
  fitAffineScale,
  fitQ3Scale,
  fitSymmetricScale,
  minK4,
  packScalesMinsK4,
  scaleK4,
} from './kquant-search';

// Module-level copies: compiled to CommonJS, each use of an imported binding is a getter call.
const { GROUP_MAX_EPS, checkSizes, clamp, nearestInt, nibbleCodes, packNibbles, readF32, readHalf, readI16, signedAbsMax, toInt8, writeF32, writeHalf, writeU16 } = io;

const QK_K = 256;
const fround = Math.fround;

// ---------------------------------------------------------------------------------------------
// Shared helpers (byte-level ones are in ./block-io.ts)

/**
 * The 2-bit quants of Q2_K and Q3_K's `qs`, in element order: each 128-value half owns 32 bytes;
 * element 32*k + l of the half sits in bits 2k..2k+1 of byte l.
 */
function twoBitCodes(src: Uint8Array, qsOffset: number, out: number[]): void {
  for (let e = 0; e < QK_K; e++) {
    out[e] = (src[qsOffset + 32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
  }
}

/** Inverse of twoBitCodes: pack 256 codes 0..3 into 64 bytes. */
function packTwoBitCodes(codes: ArrayLike<number>, dst: Uint8Array, qsOffset: number): void {
  for (let half = 0; half < 2; half++) {
    const c = 128 * half;
    for (let l = 0; l < 32; l++) {
      dst[qsOffset + 32 * half + l] =
        codes[c + l] | (codes[c + l + 32] << 2) | (codes[c + l + 64] << 4) | (codes[c + l + 96] << 6);
    }
  }
}

/**
 * Re-quantize one sub-block of n values against its stored (f16-rounded) scale dl and min ml,
 * as Q2_K, Q4_K and Q5_K do after packing the scales: codes clamp(nearest_int((x + ml) / dl), 0, nmax).
 */
function requantizeAffine(
  src: Float32Array,
  xOffset: number,
  n: number,
  dl: number,
  ml: number,
  nmax: number,
  codes: Uint8Array,
  codesOffset: number,
): void {
  for (let i = 0; i < n; i++) {
    codes[codesOffset + i] = clamp(nearestInt(fround(fround(src[xOffset + i] + ml) / dl)), 0, nmax);
  }
}

/**
 * Re-quantize one sub-block of n values against its stored scale dl, as Q3_K and Q6_K do:
 * codes clamp(nearest_int(x / dl), -nmax, nmax - 1) + nmax.
 */
function requantizeSymmetric(
  src: Float32Array,
  xOffset: number,
  n: number,
  dl: number,
  nmax: number,
  codes: Uint8Array | Int8Array,
  codesOffset: number,
): void {
  for (let i = 0; i < n; i++) {
    codes[codesOffset + i] = clamp(nearestInt(fround(src[xOffset + i] / dl)), -nmax, nmax - 1) + nmax;
  }
}

function field(name: string, kind: 'float' | 'int', length: number): BlockFieldSpec {
  return { name, kind, length };
}

// ---------------------------------------------------------------------------------------------
// Q2_K
//
// layout: ggml/src/ggml-common.h block_q2_K; math: ggml/src/ggml-quants.c quantize_row_q2_K_ref /
// dequantize_row_q2_K. 84 bytes per 256 values = 2.625 bits per weight.
//
//   offset  size  field
//        0    16  scales[16]  sub-block j (16 values): low nibble = scale code, high nibble = min code
//       16    64  qs[64]      2-bit quants: value 32k + l of 128-value half h in bits 2k..2k+1 of byte 32h + l
//       80     2  d           f16 super-block scale of the scale codes
//       82     2  dmin        f16 super-block scale of the min codes
//
//   value[16*j + i] = (d * (scales[j] & 0xF)) * q - (dmin * (scales[j] >> 4)),  q in 0..3
//   (each product rounded to float, then the difference)

const Q2_K_SIZE = 84;
const Q2_K_SEARCH: AffineSearch = { nmax: 3, rmin: -0.5, rdelta: fround(0.1), steps: 15, absoluteError: true };

export const Q2_K: BlockCodec = {
  dequantize(src, dst) {
    const blocks = checkSizes('Q2_K', QK_K, Q2_K_SIZE, src.length, dst.length, false);
    let y = 0;
    for (let b = 0; b < blocks; b++) {
      const o = b * Q2_K_SIZE;
      const d = readHalf(src, o + 80);
      const dmin = readHalf(src, o + 82);
      for (let j = 0; j < 16; j++) {
        const sc = src[o + j];
        const dl = fround(d * (sc & 0xf));
        const ml = fround(dmin * (sc >> 4));
        // Sub-block j: half j>>3, bit pair (j>>1)&3, bytes 16*(j&1) .. +15 of that half's 32.
        const q = o + 16 + 32 * (j >> 3) + 16 * (j & 1);
        const shift = 2 * ((j >> 1) & 3);
        for (let l = 0; l < 16; l++) dst[y++] = fround(dl * ((src[q + l] >> shift) & 3)) - ml;
      }
    }
  },

  quantize(src, dst) {
    const blocks = checkSizes('Q2_K', QK_K, Q2_K_SIZE, src.length, dst.length, true);
    const codes = new Uint8Array(QK_K);
    const scratch = new Uint8Array(16);
    const weights = new Float32Array(16);
    const scales = new Float32Array(16);
    const mins = new Float32Array(16);
    const fit: AffineFit = { scale: 0, min: 0 };
    for (let b = 0; b < blocks; b++) {
      const x = b * QK_K;
      const o = b * Q2_K_SIZE;
      let maxScale = 0;
      let maxMin = 0;
      for (let j = 0; j < 16; j++) {
        for (let l = 0; l < 16; l++) weights[l] = Math.abs(src[x + 16 * j + l]);
        fitAffineScale(src, x + 16 * j, 16, weights, Q2_K_SEARCH, codes, 16 * j, scratch, fit);
        scales[j] = fit.scale;
        mins[j] = fit.min;
        if (fit.scale > maxScale) maxScale = fit.scale;
        if (fit.min > maxMin) maxMin = fit.min;
      }

      // 4-bit scale and min codes relative to the largest of each (both are >= 0; 0 gives d = 0).
      dst.fill(0, o, o + 16);
      if (maxScale > 0) {
        const iscale = fround(15 / maxScale);
        for (let j = 0; j < 16; j++) dst[o + j] = nearestInt(fround(iscale * scales[j]));
      }
      if (maxMin > 0) {
        const iscale = fround(15 / maxMin);
        for (let j = 0; j < 16; j++) dst[o + j] |= nearestInt(fround(iscale * mins[j])) << 4;
      }
      const d = writeHalf(dst, o + 80, fround(maxScale / 15));
      const dmin = writeHalf(dst, o + 82, fround(maxMin / 15));

      // Re-quantize against the stored (rounded) scales; a zero scale keeps the search's codes.
      for (let j = 0; j < 16; j++) {
        const sc = dst[o + j];
        const dl = fround(d * (sc & 0xf));
        if (dl === 0) continue;
        const ml = fround(dmin * (sc >> 4));
        requantizeAffine(src, x + 16 * j, 16, dl, ml, 3, codes, 16 * j);
      }
      packTwoBitCodes(codes, dst, o + 16);
    }
  },

  fields: [
    field('scales', 'int', 16),
    field('mins', 'int', 16),
    field('q', 'int', QK_K),
    field('d', 'float', 1),
    field('dmin', 'float', 1),
  ],

  blockFields(src, offset) {
    const scales: number[] = [];
    const mins: number[] = [];
    for (let j = 0; j < 16; j++) {
      scales.push(src[offset + j] & 0xf);
      mins.push(src[offset + j] >> 4);
    }
    const q = new Array<number>(QK_K);
    twoBitCodes(src, offset + 16, q);
    return { scales, mins, q, d: readHalf(src, offset + 80), dmin: readHalf(src, offset + 82) };
  },
};

// ---------------------------------------------------------------------------------------------
// Q3_K
//
// layout: ggml/src/ggml-common.h block_q3_K; math: ggml/src/ggml-quants.c quantize_row_q3_K_ref /
// dequantize_row_q3_K. 110 bytes per 256 values = 3.4375 bits per weight.
//
//   offset  size  field
//        0    32  hmask[32]   high bit of each quant: element e in bit e/32 of byte e%32
//       32    64  qs[64]      low 2 bits of each quant, laid out as Q2_K's qs
//       96    12  scales[12]  16 six-bit scale codes s_j, stored with an offset of 32:
//                             bits 0..3 of s_j: low nibble of byte j (j < 8), high nibble of byte j-8 (j >= 8)
//                             bits 4..5 of s_j: bits 2*(j/4)..2*(j/4)+1 of byte 8 + j%4
//      108     2  d           f16 super-block scale
//
//   value[16*j + i] = (d * (s_j - 32)) * q,  q = low2 - (high bit ? 0 : 4) in -4..3

const Q3_K_SIZE = 110;

/** Sub-block j's scale code (0..63, offset by 32) from the 12 packed bytes at `offset`. */
function q3ScaleCode(src: Uint8Array, offset: number, j: number): number {
  const low = j < 8 ? src[offset + j] & 0xf : src[offset + j - 8] >> 4;
  return low | (((src[offset + 8 + (j & 3)] >> (2 * (j >> 2))) & 3) << 4);
}

export const Q3_K: BlockCodec = {
  dequantize(src, dst) {
    const blocks = checkSizes('Q3_K', QK_K, Q3_K_SIZE, src.length, dst.length, false);
    let y = 0;
    for (let b = 0; b < blocks; b++) {
      const o = b * Q3_K_SIZE;
      const d = readHalf(src, o + 108);
      for (let j = 0; j < 16; j++) {
        const dl = fround(d * (q3ScaleCode(src, o + 96, j) - 32));
        const q = o + 32 + 32 * (j >> 3) + 16 * (j & 1);
        const h = o + 16 * (j & 1);
        const shift = 2 * ((j >> 1) & 3);
        const hbit = j >> 1; // sub-blocks 2k and 2k+1 share hmask bit k
        for (let l = 0; l < 16; l++) {
          const high = (src[h + l] >> hbit) & 1;
          dst[y++] = dl * (((src[q + l] >> shift) & 3) - (high ? 0 : 4));
        }
      }
    }
  },

  quantize(src, dst) {
    const blocks = checkSizes('Q3_K', QK_K, Q3_K_SIZE, src.length, dst.length, true);
    const codes = new Int8Array(QK_K);
    const scales = new Float32Array(16);
    for (let b = 0; b < blocks; b++) {
      const x = b * QK_K;
      const o = b * Q3_K_SIZE;
      for (let j = 0; j < 16; j++) scales[j] = fitQ3Scale(src, x + 16 * j, 16, 4, codes, 16 * j);
      const maxScale = signedAbsMax(scales, 0, 16);

      // 6-bit scale codes relative to the largest |scale| (which gets -32).
      const packed = o + 96;
      dst.fill(0, packed, packed + 12);
      const iscale = maxScale !== 0 ? fround(-32 / maxScale) : 0;
      if (maxScale !== 0) {
        for (let j = 0; j < 16; j++) {
          const code = clamp(toInt8(nearestInt(fround(iscale * scales[j]))), -32, 31) + 32;
          if (j < 8) dst[packed + j] = code & 0xf;
          else dst[packed + j - 8] |= (code & 0xf) << 4;
          dst[packed + 8 + (j & 3)] |= (code >> 4) << (2 * (j >> 2));
        }
      }
      const d = writeHalf(dst, o + 108, maxScale !== 0 ? fround(1 / iscale) : 0);

      // Re-quantize against the stored scales; a zero scale keeps the search's codes.
      for (let j = 0; j < 16; j++) {
        const dl = fround(d * (q3ScaleCode(dst, packed, j) - 32));
        if (dl !== 0) requantizeSymmetric(src, x + 16 * j, 16, dl, 4, codes, 16 * j);
      }

      // Codes 0..7: bit 2 goes to hmask, bits 0..1 to qs.
      dst.fill(0, o, o + 32);
      for (let e = 0; e < QK_K; e++) {
        if (codes[e] > 3) {
          dst[o + (e & 31)] |= 1 << (e >> 5);
          codes[e] -= 4;
        }
      }
      packTwoBitCodes(codes, dst, o + 32);
    }
  },

  fields: [field('q', 'int', QK_K), field('scales', 'int', 16), field('d', 'float', 1)],

  blockFields(src, offset) {
    const q = new Array<number>(QK_K);
    twoBitCodes(src, offset + 32, q);
    for (let e = 0; e < QK_K; e++) {
      if (!((src[offset + (e & 31)] >> (e >> 5)) & 1)) q[e] -= 4;
    }
    const scales: number[] = [];
    for (let j = 0; j < 16; j++) scales.push(q3ScaleCode(src, offset + 96, j) - 32);
    return { q, scales, d: readHalf(src, offset + 108) };
  },
};

// ---------------------------------------------------------------------------------------------
// Q4_K and Q5_K share the quantizer's structure: 8 sub-blocks of 32 values, each fitted as
// x ≈ scale * q - min, the scales and mins coded in 6 bits relative to their largest (packed as
// described at packScalesMinsK4 in ./kquant-search.ts), then every value re-quantized against
// the f16-rounded result.

const SCALES_MINS_OFFSET = 4;

function quantizeScaledMinBlocks(
  name: string,
  typeSize: number,
  search: AffineSearch,
  src: Float32Array,
  dst: Uint8Array,
  packCodes: (codes: Uint8Array, dst: Uint8Array, blockOffset: number) => void,
): void {
  const blocks = checkSizes(name, QK_K, typeSize, src.length, dst.length, true);
  const codes = new Uint8Array(QK_K);
  const scratch = new Uint8Array(32);
  const weights = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  const scaleCodes = new Uint8Array(8);
  const minCodes = new Uint8Array(8);
  const fit: AffineFit = { scale: 0, min: 0 };
  for (let b = 0; b < blocks; b++) {
    const x = b * QK_K;
    const o = b * typeSize;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      const base = x + 32 * j;
      // Weights: the group's RMS plus each value's magnitude.
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) sumX2 = fround(sumX2 + fround(src[base + l] * src[base + l]));
      const rms = fround(Math.sqrt(fround(sumX2 / 32)));
      for (let l = 0; l < 32; l++) weights[l] = rms + Math.abs(src[base + l]);
      fitAffineScale(src, base, 32, weights, search, codes, 32 * j, scratch, fit);
      scales[j] = fit.scale;
      mins[j] = fit.min;
      if (fit.scale > maxScale) maxScale = fit.scale;
      if (fit.min > maxMin) maxMin = fit.min;
    }

    const invScale = maxScale > 0 ? fround(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? fround(63 / maxMin) : 0;
    for (let j = 0; j < 8; j++) {
      // uint8_t = nearest_int(...) keeps the low byte before MIN(63, ...).
      scaleCodes[j] = Math.min(63, nearestInt(fround(invScale * scales[j])) & 0xff);
      minCodes[j] = Math.min(63, nearestInt(fround(invMin * mins[j])) & 0xff);
    }
    packScalesMinsK4(dst, o + SCALES_MINS_OFFSET, scaleCodes, minCodes);
    const d = writeHalf(dst, o, fround(maxScale / 63));
    const dmin = writeHalf(dst, o + 2, fround(maxMin / 63));

    // Re-quantize against the stored scales; a zero scale keeps the search's codes.
    for (let j = 0; j < 8; j++) {
      const dl = fround(d * scaleK4(dst, o + SCALES_MINS_OFFSET, j));
      if (dl === 0) continue;
      const ml = fround(dmin * minK4(dst, o + SCALES_MINS_OFFSET, j));
      requantizeAffine(src, x + 32 * j, 32, dl, ml, search.nmax, codes, 32 * j);
    }
    packCodes(codes, dst, o);
  }
}

/** Q4_K's and Q5_K's block fields (the same but for how `q` is stored). */
const SCALED_MIN_FIELDS: readonly BlockFieldSpec[] = [
  field('d', 'float', 1),
  field('dmin', 'float', 1),
  field('scales', 'int', 8),
  field('mins', 'int', 8),
  field('q', 'int', QK_K),
];

function scaledMinBlockFields(src: Uint8Array, offset: number, q: number[]): BlockFieldValues {
  const scales: number[] = [];
  const mins: number[] = [];
  for (let j = 0; j < 8; j++) {
    scales.push(scaleK4(src, offset + SCALES_MINS_OFFSET, j));
    mins.push(minK4(src, offset + SCALES_MINS_OFFSET, j));
  }
  return { d: readHalf(src, offset), dmin: readHalf(src, offset + 2), scales, mins, q };
}

// ---------------------------------------------------------------------------------------------
// Q4_K
//
// layout: ggml/src/ggml-common.h block_q4_K; math: ggml/src/ggml-quants.c quantize_row_q4_K_ref /
// dequantize_row_q4_K. 144 bytes per 256 values = 4.5 bits per weight.
//
//   offset  size  field
//        0     2  d           f16 super-block scale of the scale codes
//        2     2  dmin        f16 super-block scale of the min codes
//        4    12  scales[12]  8 six-bit scale codes sc_j and 8 six-bit min codes m_j (get_scale_min_k4)
//       16   128  qs[128]     4-bit quants: 64-value chunk c uses bytes 32c..32c+31; its first 32
//                             values are the low nibbles, the next 32 the high nibbles
//
//   value[32*j + i] = (d * sc_j) * q - (dmin * m_j),  q in 0..15
//   (each product rounded to float, then the difference)

const Q4_K_SIZE = 144;
const Q4_K_SEARCH: AffineSearch = { nmax: 15, rmin: -1, rdelta: fround(0.1), steps: 20, absoluteError: false };

export const Q4_K: BlockCodec = {
  dequantize(src, dst) {
    const blocks = checkSizes('Q4_K', QK_K, Q4_K_SIZE, src.length, dst.length, false);
    let y = 0;
    for (let b = 0; b < blocks; b++) {
      const o = b * Q4_K_SIZE;
      const d = readHalf(src, o);
      const dmin = readHalf(src, o + 2);
      for (let j = 0; j < 8; j++) {
        const dl = fround(d * scaleK4(src, o + SCALES_MINS_OFFSET, j));
        const ml = fround(dmin * minK4(src, o + SCALES_MINS_OFFSET, j));
        const q = o + 16 + 32 * (j >> 1);
        if (j & 1) for (let l = 0; l < 32; l++) dst[y++] = fround(dl * (src[q + l] >> 4)) - ml;
        else for (let l = 0; l < 32; l++) dst[y++] = fround(dl * (src[q + l] & 0xf)) - ml;
      }
    }
  },

  quantize(src, dst) {
    quantizeScaledMinBlocks('Q4_K', Q4_K_SIZE, Q4_K_SEARCH, src, dst, (codes, out, o) => {
      packNibbles(codes, QK_K, 32, out, o + 16);
    });
  },

  fields: SCALED_MIN_FIELDS,

  blockFields(src, offset) {
    return scaledMinBlockFields(src, offset, nibbleCodes(src, offset + 16, QK_K, 32));
  },
};

// ---------------------------------------------------------------------------------------------
// Q5_K
//
// layout: ggml/src/ggml-common.h block_q5_K; math: ggml/src/ggml-quants.c quantize_row_q5_K_ref /
// dequantize_row_q5_K. 176 bytes per 256 values = 5.5 bits per weight.
//
//   offset  size  field
//        0     2  d           f16 super-block scale of the scale codes
//        2     2  dmin        f16 super-block scale of the min codes
//        4    12  scales[12]  8 six-bit scale codes sc_j and 8 six-bit min codes m_j (get_scale_min_k4)
//       16    32  qh[32]      bit 4 of each quant: sub-block j's value l in bit j of byte l
//       48   128  qs[128]     bits 0..3 of each quant, laid out as Q4_K's qs
//
//   value[32*j + i] = (d * sc_j) * q - (dmin * m_j),  q in 0..31
//   (each product rounded to float, then the difference)

const Q5_K_SIZE = 176;
const Q5_K_SEARCH: AffineSearch = { nmax: 31, rmin: -0.5, rdelta: fround(0.1), steps: 15, absoluteError: false };

export const Q5_K: BlockCodec = {
  dequantize(src, dst) {
    const blocks = checkSizes('Q5_K', QK_K, Q5_K_SIZE, src.length, dst.length, false);
    let y = 0;
    for (let b = 0; b < blocks; b++) {
      const o = b * Q5_K_SIZE;
      const d = readHalf(src, o);
      const dmin = readHalf(src, o + 2);
      for (let j = 0; j < 8; j++) {
        const dl = fround(d * scaleK4(src, o + SCALES_MINS_OFFSET, j));
        const ml = fround(dmin * minK4(src, o + SCALES_MINS_OFFSET, j));
        const qh = o + 16;
        const q = o + 48 + 32 * (j >> 1);
        const shift = 4 * (j & 1);
        for (let l = 0; l < 32; l++) {
          const code = ((src[q + l] >> shift) & 0xf) | (((src[qh + l] >> j) & 1) << 4);
          dst[y++] = fround(dl * code) - ml;
        }
      }
    }
  },

  quantize(src, dst) {
    quantizeScaledMinBlocks('Q5_K', Q5_K_SIZE, Q5_K_SEARCH, src, dst, (codes, out, o) => {
      out.fill(0, o + 16, o + 48);
      for (let e = 0; e < QK_K; e++) if (codes[e] > 15) out[o + 16 + (e & 31)] |= 1 << (e >> 5);
      packNibbles(codes, QK_K, 32, out, o + 48);
    });
  },

  fields: SCALED_MIN_FIELDS,

  blockFields(src, offset) {
    const q = nibbleCodes(src, offset + 48, QK_K, 32);
    for (let e = 0; e < QK_K; e++) q[e] |= ((src[offset + 16 + (e & 31)] >> (e >> 5)) & 1) << 4;
    return scaledMinBlockFields(src, offset, q);
  },
};

// ---------------------------------------------------------------------------------------------
// Q6_K
//
// layout: ggml/src/ggml-common.h block_q6_K; math: ggml/src/ggml-quants.c quantize_row_q6_K_ref /
// dequantize_row_q6_K. 210 bytes per 256 values = 6.5625 bits per weight.
//
//   offset  size  field
//        0   128  ql[128]     low 4 bits of each quant: value l of quarter k (32 values) of 128-value
//                             half h is in byte 64h + 32*(k&1) + l, low nibble for k < 2, high for k >= 2
//      128    64  qh[64]      high 2 bits: half h, quarter k, value l in bits 2k..2k+1 of byte 128 + 32h + l
//      192    16  scales[16]  int8 sub-block scales (16 values each)
//      208     2  d           f16 super-block scale
//
//   value[16*j + i] = (d * scales[j]) * q,  q = (low | high << 4) - 32 in -32..31

const Q6_K_SIZE = 210;

/** Element e's 6-bit code (0..63) of the Q6_K block at `offset`. */
function q6Code(src: Uint8Array, offset: number, e: number): number {
  const half = e >> 7;
  const quarter = (e >> 5) & 3;
  const l = e & 31;
  const low = (src[offset + 64 * half + 32 * (quarter & 1) + l] >> (4 * (quarter >> 1))) & 0xf;
  const high = (src[offset + 128 + 32 * half + l] >> (2 * quarter)) & 3;
  return low | (high << 4);
}

export const Q6_K: BlockCodec = {
  dequantize(src, dst) {
    const blocks = checkSizes('Q6_K', QK_K, Q6_K_SIZE, src.length, dst.length, false);
    let y = 0;
    for (let b = 0; b < blocks; b++) {
      const o = b * Q6_K_SIZE;
      const d = readHalf(src, o + 208);
      for (let j = 0; j < 16; j++) {
        const dl = fround(d * toInt8(src[o + 192 + j]));
        // Sub-block j: half j>>3, quarter (j>>1)&3, values 16*(j&1) .. +15 of that quarter.
        const half = j >> 3;
        const quarter = (j >> 1) & 3;
        const ql = o + 64 * half + 32 * (quarter & 1) + 16 * (j & 1);
        const qh = o + 128 + 32 * half + 16 * (j & 1);
        const lowShift = 4 * (quarter >> 1);
        const highShift = 2 * quarter;
        for (let l = 0; l < 16; l++) {
          const code = ((src[ql + l] >> lowShift) & 0xf) | (((src[qh + l] >> highShift) & 3) << 4);
          dst[y++] = dl * (code - 32);
        }
      }
    }
  },

  quantize(src, dst) {
    const blocks = checkSizes('Q6_K', QK_K, Q6_K_SIZE, src.length, dst.length, true);
    const codes = new Uint8Array(QK_K);
    const scales = new Float32Array(16);
    for (let b = 0; b < blocks; b++) {
      const x = b * QK_K;
      const o = b * Q6_K_SIZE;
      for (let j = 0; j < 16; j++) scales[j] = fitSymmetricScale(src, x + 16 * j, 16, 32, codes, 16 * j);
      const maxScale = signedAbsMax(scales, 0, 16);
      dst.fill(0, o, o + Q6_K_SIZE);
      if (Math.abs(maxScale) < GROUP_MAX_EPS) continue; // all-zero block: every byte 0

      // int8 scale codes relative to the largest |scale| (which gets -128 or 127).
      const iscale = fround(-128 / maxScale);
      const d = writeHalf(dst, o + 208, fround(1 / iscale));
      for (let j = 0; j < 16; j++) dst[o + 192 + j] = Math.min(127, nearestInt(fround(iscale * scales[j])));

      // Re-quantize against the stored scales; a zero scale keeps the search's codes.
      for (let j = 0; j < 16; j++) {
        const dl = fround(d * toInt8(dst[o + 192 + j]));
        if (dl !== 0) requantizeSymmetric(src, x + 16 * j, 16, dl, 32, codes, 16 * j);
      }

      for (let e = 0; e < QK_K; e++) {
        const half = e >> 7;
        const quarter = (e >> 5) & 3;
        const l = e & 31;
        dst[o + 64 * half + 32 * (quarter & 1) + l] |= (codes[e] & 0xf) << (4 * (quarter >> 1));
        dst[o + 128 + 32 * half + l] |= (codes[e] >> 4) << (2 * quarter);
      }
    }
  },

  fields: [field('q', 'int', QK_K), field('scales', 'int', 16), field('d', 'float', 1)],

  blockFields(src, offset) {
    const q: number[] = [];
    for (let e = 0; e < QK_K; e++) q.push(q6Code(src, offset, e) - 32);
    const scales: number[] = [];
    for (let j = 0; j < 16; j++) scales.push(toInt8(src[offset + 192 + j]));
    return { q, scales, d: readHalf(src, offset + 208) };
  },
};

// ---------------------------------------------------------------------------------------------
// Q8_K (used by ggml for activations in K-quant dot products; no model file stores it)
//
// layout: ggml/src/ggml-common.h block_q8_K; math: ggml/src/ggml-quants.c quantize_row_q8_K_ref /
// dequantize_row_q8_K. 292 bytes per 256 values = 9.125 bits per weight.
//
//   offset  size  field
//        0     4  d           float32 scale
//        4   256  qs[256]     int8 quants, in element order
//      260    32  bsums[16]   int16 sum of each 16 consecutive quants (for dot products)
//
//   value[i] = d * qs[i]

const Q8_K_SIZE = 292;

export const Q8_K: BlockCodec = {
  dequantize(src, dst) {
    const blocks = checkSizes('Q8_K', QK_K, Q8_K_SIZE, src.length, dst.length, false);
    let y = 0;
    for (let b = 0; b < blocks; b++) {
      const o = b * Q8_K_SIZE;
      const d = readF32(src, o);
      for (let i = 0; i < QK_K; i++) dst[y++] = d * toInt8(src[o + 4 + i]);
    }
  },

  quantize(src, dst) {
    const blocks = checkSizes('Q8_K', QK_K, Q8_K_SIZE, src.length, dst.length, true);
    for (let b = 0; b < blocks; b++) {
      const x = b * QK_K;
      const o = b * Q8_K_SIZE;
      const max = signedAbsMax(src, x, QK_K);
      // ggml leaves bsums unset for an all-zero block; we write zeros there.
      dst.fill(0, o, o + Q8_K_SIZE);
      if (max === 0) continue;
      // -127 (not -128) so that the largest value maps to -127 and every code fits in -127..127.
      const iscale = fround(-127 / max);
      for (let j = 0; j < 16; j++) {
        let sum = 0;
        for (let i = 16 * j; i < 16 * j + 16; i++) {
          const code = toInt8(Math.min(127, nearestInt(fround(iscale * src[x + i]))));
          dst[o + 4 + i] = code;
          sum += code;
        }
        writeU16(dst, o + 260 + 2 * j, sum);
      }
      writeF32(dst, o, fround(1 / iscale));
    }
  },

  fields: [field('d', 'float', 1), field('q', 'int', QK_K), field('bsums', 'int', 16)],

  blockFields(src, offset) {
    const q: number[] = [];
    for (let i = 0; i < QK_K; i++) q.push(toInt8(src[offset + 4 + i]));
    const bsums: number[] = [];
    for (let j = 0; j < 16; j++) bsums.push(readI16(src, offset + 260 + 2 * j));
    return { d: readF32(src, offset), q, bsums };
  },
};
