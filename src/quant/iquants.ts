// The 4-bit non-linear "i-quants": a code does not stand for an evenly spaced level but indexes a
// fixed table of 16 int8 levels, denser near zero where most weights are. IQ4_NL has 32-value blocks
// with one f16 scale; IQ4_XS has 256-value super-blocks with an f16 scale and a 6-bit scale per 32.
//
// Float32 arithmetic is replayed as in legacy.ts: Math.fround after every float operation the C
// code performs, no fused multiply-add.

import type { BlockCodec } from './codec';
import * as io from './block-io';

// Module-level copies: compiled to CommonJS, each use of an imported binding is a getter call.
const { GROUP_MAX_EPS, checkSizes, inverseOrZero, nearestInt, nibbleCodes, packNibbles, readHalf, readU16, signedAbsMax, writeHalf, writeU16 } = io;

const fround = Math.fround;

/** The 16 levels a code selects (ggml-common.h kvalues_iq4nl). */
const LEVELS = Int8Array.of(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);

const SUB = 32; // values per scale
const SUPER = 256; // values per IQ4_XS super-block (QK_K)

/**
 * Index of the level nearest to x (float32), as ggml's best_index_int8: binary search for the two
 * neighbouring levels, then the lower one only if strictly nearer (distances rounded to float32).
 */
function nearestLevel(x: number): number {
  if (x <= LEVELS[0]) return 0;
  if (x >= LEVELS[15]) return 15;
  let lo = 0;
  let hi = 15;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x < LEVELS[mid]) hi = mid;
    else lo = mid;
  }
  return fround(x - LEVELS[hi - 1]) < fround(LEVELS[hi] - x) ? hi - 1 : hi;
}

// Weighted least-squares sums for codes chosen with inverse scale `id`, weights x²:
// sumQX = Σ w·q·x and sumQ2 = Σ w·q², accumulated in float32 in element order.
let sumQX = 0;
let sumQ2 = 0;

function fitSums(src: Float32Array, base: number, id: number, codes: Uint8Array | null, codeBase: number): void {
  let qx = 0;
  let q2 = 0;
  for (let j = 0; j < SUB; j++) {
    const x = src[base + j];
    const l = nearestLevel(fround(id * x));
    if (codes) codes[codeBase + j] = l;
    const wq = fround(fround(x * x) * LEVELS[l]);
    qx = fround(qx + fround(wq * x));
    q2 = fround(q2 + fround(wq * LEVELS[l]));
  }
  sumQX = qx;
  sumQ2 = q2;
}

/**
 * Scale of one 32-value sub-block by ggml's search (quantize_row_iq4_nl_impl, no importance
 * weights): codes from the start scale max/-127 (sign flipped when ntry > 0), then the weighted
 * least-squares scale for those codes; then 2*ntry+1 other start scales (-127+t)/max, keeping the
 * best weighted fit. Only the first pass writes `codes`. Returns 0, leaving `codes` untouched, for
 * a sub-block whose largest |value| is below 1e-15.
 */
function fitScale(src: Float32Array, base: number, codes: Uint8Array, codeBase: number, ntry: number): number {
  const max = signedAbsMax(src, base, SUB);
  if (Math.abs(max) < GROUP_MAX_EPS) return 0;

  const start = ntry > 0 ? fround(-max / LEVELS[0]) : fround(max / LEVELS[0]);
  fitSums(src, base, fround(1 / start), codes, codeBase);
  let d = sumQ2 > 0 ? fround(sumQX / sumQ2) : 0;
  let best = fround(d * sumQX);
  for (let t = -ntry; t <= ntry; t++) {
    fitSums(src, base, fround((t + LEVELS[0]) / max), null, 0);
    if (sumQ2 > 0 && fround(sumQX * sumQX) > fround(best * sumQ2)) {
      d = fround(sumQX / sumQ2);
      best = fround(d * sumQX);
    }
  }
  return d;
}

/** Packs 32 codes per 16 bytes: code j in the low nibble of byte j, code j+16 in the high nibble. */
function packCodes(codes: Uint8Array, count: number, dst: Uint8Array, offset: number): void {
  packNibbles(codes, count, SUB / 2, dst, offset);
}

/** Codes of `count` values packed as by packCodes, in element order. */
function unpackCodes(src: Uint8Array, offset: number, count: number): number[] {
  return nibbleCodes(src, offset, count, SUB / 2);
}

// ---------------------------------------------------------------------------------------------
// IQ4_NL: 18 bytes per 32 values = 4.5 bits per weight
//
//   offset  0  ggml_half d       scale
//   offset  2  uint8_t   qs[16]  4-bit codes; element j in the low nibble of qs[j],
//                                element j+16 in the high nibble
//
//   dequantize: y[j] = d * kvalues_iq4nl[q[j]]                         q in 0..15
//   quantize (reference, ntry = -1): codes for d0 = max / -127 (max: the value of largest |value|,
//               sign kept), then d = Σ w·q·x / Σ w·q² with w = x², codes kept from d0.
//               A block with max |x| < 1e-15 gets d = 0; ggml then leaves its codes as whatever
//               its scratch array held (the previous block's codes; uninitialized memory for the
//               first block of a call, where we write zeros).
//   Note: llama-quantize does not use this reference quantizer for IQ4_NL files but
//   quantize_iq4_nl (ntry = 7: 15 more start scales, and codes redone with the final scale),
//   so quantize() does not reproduce llama-quantize's IQ4_NL files.
//
// layout: ggml/src/ggml-common.h block_iq4_nl, kvalues_iq4nl
// math:   ggml/src/ggml-quants.c quantize_row_iq4_nl_ref / quantize_row_iq4_nl_impl /
//         dequantize_row_iq4_nl

const IQ4_NL_SIZE = 18;

export const IQ4_NL: BlockCodec = {
  dequantize(src, dst) {
    checkSizes('IQ4_NL', SUB, IQ4_NL_SIZE, src.length, dst.length, false);
    for (let o = 0, y = 0; o < src.length; o += IQ4_NL_SIZE, y += SUB) {
      const d = readHalf(src, o);
      for (let j = 0; j < SUB / 2; j++) {
        const b = src[o + 2 + j];
        dst[y + j] = d * LEVELS[b & 0x0f];
        dst[y + j + SUB / 2] = d * LEVELS[b >> 4];
      }
    }
  },
  quantize(src, dst) {
    checkSizes('IQ4_NL', SUB, IQ4_NL_SIZE, src.length, dst.length, true);
    const codes = new Uint8Array(SUB); // persists across blocks, like ggml's scratch array
    for (let x = 0, o = 0; x < src.length; x += SUB, o += IQ4_NL_SIZE) {
      writeHalf(dst, o, fitScale(src, x, codes, 0, -1));
      packCodes(codes, SUB, dst, o + 2);
    }
  },
  fields: [
    { name: 'd', kind: 'float', length: 1 },
    { name: 'q', kind: 'int', length: SUB },
  ],
  blockFields(src, offset) {
    return { d: readHalf(src, offset), q: unpackCodes(src, offset + 2, SUB) };
  },
};

// ---------------------------------------------------------------------------------------------
// IQ4_XS: 136 bytes per 256 values = 4.25 bits per weight
//
//   offset  0  ggml_half d            super-block scale
//   offset  2  uint16_t  scales_h     bits 2i..2i+1: high 2 bits of sub-block i's 6-bit scale
//   offset  4  uint8_t   scales_l[4]  low 4 bits of the scales: sub-block 2k in the low nibble
//                                     of scales_l[k], sub-block 2k+1 in the high nibble
//   offset  8  uint8_t   qs[128]      4-bit codes, 16 bytes per 32-value sub-block i (from 8+16i),
//                                     nibble order as IQ4_NL within each sub-block
//
//   dequantize: y[32i+j] = (d * (scale[i] - 32)) * kvalues_iq4nl[q[32i+j]]   scale in 0..63, q in 0..15
//   quantize (reference = quantize_iq4_xs without importance weights, ntry = 7): each sub-block's
//               scale s[i] by the IQ4_NL search with 15 start scales; d = -s_max / 32 where s_max
//               is the s[i] of largest magnitude; scale[i] = clamp(nearest_int(s[i] / d), -32, 31)
//               + 32; codes redone with the final sub-block scale d * (scale[i] - 32).
//
// layout: ggml/src/ggml-common.h block_iq4_xs, kvalues_iq4nl
// math:   ggml/src/ggml-quants.c quantize_row_iq4_xs_ref / quantize_iq4_xs /
//         quantize_row_iq4_nl_impl / dequantize_row_iq4_xs

const IQ4_XS_SIZE = 136;
const SUBS = SUPER / SUB;

function subBlockScaleCode(src: Uint8Array, offset: number, i: number): number {
  const low = (src[offset + 4 + (i >> 1)] >> (4 * (i & 1))) & 0x0f;
  const high = (readU16(src, offset + 2) >> (2 * i)) & 3;
  return low | (high << 4);
}

export const IQ4_XS: BlockCodec = {
  dequantize(src, dst) {
    checkSizes('IQ4_XS', SUPER, IQ4_XS_SIZE, src.length, dst.length, false);
    for (let o = 0, y = 0; o < src.length; o += IQ4_XS_SIZE, y += SUPER) {
      const d = readHalf(src, o);
      for (let i = 0; i < SUBS; i++) {
        const dl = fround(d * (subBlockScaleCode(src, o, i) - 32));
        const qs = o + 8 + 16 * i;
        const out = y + SUB * i;
        for (let j = 0; j < SUB / 2; j++) {
          const b = src[qs + j];
          dst[out + j] = dl * LEVELS[b & 0x0f];
          dst[out + j + SUB / 2] = dl * LEVELS[b >> 4];
        }
      }
    }
  },
  quantize(src, dst) {
    checkSizes('IQ4_XS', SUPER, IQ4_XS_SIZE, src.length, dst.length, true);
    const codes = new Uint8Array(SUPER);
    const scales = new Float32Array(SUBS);
    for (let x = 0, o = 0; x < src.length; x += SUPER, o += IQ4_XS_SIZE) {
      for (let i = 0; i < SUBS; i++) scales[i] = fitScale(src, x + SUB * i, codes, SUB * i, 7);
      const maxScale = signedAbsMax(scales, 0, SUBS);
      const d = fround(-maxScale / 32);
      writeHalf(dst, o, d);
      const id = inverseOrZero(d);
      let scalesHigh = 0;
      dst.fill(0, o + 4, o + 8);
      for (let i = 0; i < SUBS; i++) {
        const l = Math.max(-32, Math.min(31, nearestInt(fround(id * scales[i]))));
        const idl = inverseOrZero(fround(d * l));
        for (let j = 0; j < SUB; j++) codes[SUB * i + j] = nearestLevel(fround(idl * src[x + SUB * i + j]));
        const code = l + 32;
        dst[o + 4 + (i >> 1)] |= (code & 0x0f) << (4 * (i & 1));
        scalesHigh |= (code >> 4) << (2 * i);
      }
      writeU16(dst, o + 2, scalesHigh);
      packCodes(codes, SUPER, dst, o + 8);
    }
  },
  fields: [
    { name: 'd', kind: 'float', length: 1 },
    { name: 'scales', kind: 'int', length: SUBS },
    { name: 'q', kind: 'int', length: SUPER },
  ],
  blockFields(src, offset) {
    const scales: number[] = [];
    for (let i = 0; i < SUBS; i++) scales.push(subBlockScaleCode(src, offset, i));
    return { d: readHalf(src, offset), scales, q: unpackCodes(src, offset + 8, SUPER) };
  },
};
