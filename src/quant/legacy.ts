// The "legacy" ggml block formats: 32 values per block, one f16 scale (plus an f16 minimum or sum
// for the _1 variants), 4, 5 or 8 bits per quant.
//
// Bit-exactness with ggml: dequantization computes in float32 exactly as the C loops do (a value
// stored into a Float32Array is rounded to float32 once, which is the C float result when the C
// expression has a single operation; wider expressions fround their inner steps). Quantization
// replays ggml's reference quantizers with every float operation rounded to float32 (Math.fround),
// without fused multiply-add, and with C's float-to-small-integer casts as x86-64 performs them
// (see castToInt32).

import type { BlockCodec, BlockFieldSpec } from './codec';
import * as io from './block-io';

// Module-level copies: compiled to CommonJS, each use of an imported binding is a getter call.
const { checkSizes, inverseOrZero, nibbleCodes, readHalf, readU32, signedAbsMax, toInt8, writeHalf, writeU32 } = io;

const QK = 32;
const HALF = QK / 2;
const FLT_MAX = 3.4028234663852886e38;
const fround = Math.fround;

// ---------------------------------------------------------------------------------------------
// Shared helpers (byte-level ones are in ./block-io.ts)

/**
 * C's conversion of a float to a small integer type as x86-64 compilers emit it: cvttss2si
 * truncates toward zero into an int32 (NaN and out-of-range values give INT32_MIN), and the
 * narrowing to int8_t/uint8_t then keeps the low byte. For the in-range values real weights
 * produce this is plain truncation; the rest only matters for NaN/inf or subnormal scales.
 */
function castToInt32(x: number): number {
  return x >= -2147483648 && x < 2147483648 ? Math.trunc(x) : -2147483648;
}

function castToInt8(x: number): number {
  return toInt8(castToInt32(x));
}

/** C's roundf: to the nearest integer, halves away from zero (x + 0.5 is exact for float32 x). */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(0.5 - x) : Math.floor(x + 0.5);
}

/** max |value| as C's `amax = MAX(amax, fabsf(v))` computes it (a NaN is replaced by later values). */
function absMax(src: Float32Array, base: number): number {
  let amax = 0;
  for (let j = 0; j < QK; j++) {
    const a = Math.abs(src[base + j]);
    amax = amax > a ? amax : a;
  }
  return amax;
}

/** Codes of a 4-bit block, in element order: element j in the low nibble of qs[j], j+16 in the high one. */
function fourBitCodes(src: Uint8Array, qsOffset: number): number[] {
  return nibbleCodes(src, qsOffset, QK, HALF);
}

/** Codes of a 5-bit block: the nibbles plus bit 4 of element j taken from bit j of the 32-bit qh. */
function fiveBitCodes(src: Uint8Array, qhOffset: number, qsOffset: number): number[] {
  const qh = readU32(src, qhOffset);
  const q = fourBitCodes(src, qsOffset);
  for (let j = 0; j < QK; j++) q[j] |= ((qh >>> j) & 1) << 4;
  return q;
}

function int8Codes(src: Uint8Array, qsOffset: number): number[] {
  const q = new Array<number>(QK);
  for (let j = 0; j < QK; j++) q[j] = toInt8(src[qsOffset + j]);
  return q;
}

const float = (name: string): BlockFieldSpec => ({ name, kind: 'float', length: 1 });
const codes: BlockFieldSpec = { name: 'q', kind: 'int', length: QK };

// ---------------------------------------------------------------------------------------------
// Q4_0: 18 bytes per 32 values = 4.5 bits per weight
//
//   offset  0  ggml_half d       scale (delta)
//   offset  2  uint8_t   qs[16]  4-bit codes; element j in the low nibble of qs[j],
//                                element j+16 in the high nibble
//
//   dequantize: y[j] = (q[j] - 8) * d                                  q in 0..15
//   quantize:   max = the value of largest |value| (sign kept); d = max / -8; id = 1/d
//               q = min(15, (int8_t)(x*id + 8.5f))   so max itself gets code 0 (= -8*d)
//
// layout: ggml/src/ggml-common.h block_q4_0
// math:   ggml/src/ggml-quants.c quantize_row_q4_0_ref / dequantize_row_q4_0

const Q4_0_SIZE = 18;

export const Q4_0: BlockCodec = {
  dequantize(src, dst) {
    checkSizes('Q4_0', QK, Q4_0_SIZE, src.length, dst.length, false);
    for (let o = 0, y = 0; o < src.length; o += Q4_0_SIZE, y += QK) {
      const d = readHalf(src, o);
      for (let j = 0; j < HALF; j++) {
        const b = src[o + 2 + j];
        dst[y + j] = ((b & 0x0f) - 8) * d;
        dst[y + j + HALF] = ((b >> 4) - 8) * d;
      }
    }
  },
  quantize(src, dst) {
    checkSizes('Q4_0', QK, Q4_0_SIZE, src.length, dst.length, true);
    for (let x = 0, o = 0; x < src.length; x += QK, o += Q4_0_SIZE) {
      const d = fround(signedAbsMax(src, x, QK) / -8);
      const id = inverseOrZero(d);
      writeHalf(dst, o, d);
      for (let j = 0; j < HALF; j++) {
        const lo = Math.min(15, castToInt8(fround(fround(src[x + j] * id) + 8.5))) & 0xff;
        const hi = Math.min(15, castToInt8(fround(fround(src[x + j + HALF] * id) + 8.5))) & 0xff;
        dst[o + 2 + j] = lo | (hi << 4);
      }
    }
  },
  fields: [float('d'), codes],
  blockFields(src, offset) {
    return { d: readHalf(src, offset), q: fourBitCodes(src, offset + 2) };
  },
};

// ---------------------------------------------------------------------------------------------
// Q4_1: 20 bytes per 32 values = 5.0 bits per weight
//
//   offset  0  ggml_half d       scale (delta)
//   offset  2  ggml_half m       minimum
//   offset  4  uint8_t   qs[16]  4-bit codes, nibble order as Q4_0
//
//   dequantize: y[j] = q[j]*d + m          (two float32 roundings, no FMA)   q in 0..15
//   quantize:   d = (max - min) / 15; id = 1/d; q = min(15, (int8_t)((x - min)*id + 0.5f))
//               (the float min, not its f16 rounding, is used for the codes)
//
// layout: ggml/src/ggml-common.h block_q4_1
// math:   ggml/src/ggml-quants.c quantize_row_q4_1_ref / dequantize_row_q4_1

const Q4_1_SIZE = 20;

/** Block minimum and maximum, as the C loop finds them (starting from FLT_MAX / -FLT_MAX). */
function minMax(src: Float32Array, base: number): [number, number] {
  let min = FLT_MAX;
  let max = -FLT_MAX;
  for (let j = 0; j < QK; j++) {
    const v = src[base + j];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

export const Q4_1: BlockCodec = {
  dequantize(src, dst) {
    checkSizes('Q4_1', QK, Q4_1_SIZE, src.length, dst.length, false);
    for (let o = 0, y = 0; o < src.length; o += Q4_1_SIZE, y += QK) {
      const d = readHalf(src, o);
      const m = readHalf(src, o + 2);
      for (let j = 0; j < HALF; j++) {
        const b = src[o + 4 + j];
        dst[y + j] = fround((b & 0x0f) * d) + m;
        dst[y + j + HALF] = fround((b >> 4) * d) + m;
      }
    }
  },
  quantize(src, dst) {
    checkSizes('Q4_1', QK, Q4_1_SIZE, src.length, dst.length, true);
    for (let x = 0, o = 0; x < src.length; x += QK, o += Q4_1_SIZE) {
      const [min, max] = minMax(src, x);
      const d = fround(fround(max - min) / 15);
      const id = inverseOrZero(d);
      writeHalf(dst, o, d);
      writeHalf(dst, o + 2, min);
      for (let j = 0; j < HALF; j++) {
        const lo = Math.min(15, castToInt8(fround(fround(fround(src[x + j] - min) * id) + 0.5))) & 0xff;
        const hi = Math.min(15, castToInt8(fround(fround(fround(src[x + j + HALF] - min) * id) + 0.5))) & 0xff;
        dst[o + 4 + j] = lo | (hi << 4);
      }
    }
  },
  fields: [float('d'), float('m'), codes],
  blockFields(src, offset) {
    return { d: readHalf(src, offset), m: readHalf(src, offset + 2), q: fourBitCodes(src, offset + 4) };
  },
};

// ---------------------------------------------------------------------------------------------
// Q5_0: 22 bytes per 32 values = 5.5 bits per weight
//
//   offset  0  ggml_half d       scale (delta)
//   offset  2  uint8_t   qh[4]   fifth bits: bit j of the little-endian uint32 is bit 4 of element j
//   offset  6  uint8_t   qs[16]  low 4 bits, nibble order as Q4_0
//
//   dequantize: y[j] = (q[j] - 16) * d                                 q in 0..31
//   quantize:   max = the value of largest |value| (sign kept); d = max / -16; id = 1/d
//               q = min(31, (int8_t)(x*id + 16.5f))
//
// layout: ggml/src/ggml-common.h block_q5_0
// math:   ggml/src/ggml-quants.c quantize_row_q5_0_ref / dequantize_row_q5_0

const Q5_0_SIZE = 22;

export const Q5_0: BlockCodec = {
  dequantize(src, dst) {
    checkSizes('Q5_0', QK, Q5_0_SIZE, src.length, dst.length, false);
    for (let o = 0, y = 0; o < src.length; o += Q5_0_SIZE, y += QK) {
      const d = readHalf(src, o);
      const qh = readU32(src, o + 2);
      for (let j = 0; j < HALF; j++) {
        const b = src[o + 6 + j];
        const lo = (b & 0x0f) | (((qh >>> j) & 1) << 4);
        const hi = (b >> 4) | (((qh >>> (j + HALF)) & 1) << 4);
        dst[y + j] = (lo - 16) * d;
        dst[y + j + HALF] = (hi - 16) * d;
      }
    }
  },
  quantize(src, dst) {
    checkSizes('Q5_0', QK, Q5_0_SIZE, src.length, dst.length, true);
    for (let x = 0, o = 0; x < src.length; x += QK, o += Q5_0_SIZE) {
      const d = fround(signedAbsMax(src, x, QK) / -16);
      const id = inverseOrZero(d);
      writeHalf(dst, o, d);
      let qh = 0;
      for (let j = 0; j < HALF; j++) {
        const lo = Math.min(31, castToInt8(fround(fround(src[x + j] * id) + 16.5))) & 0xff;
        const hi = Math.min(31, castToInt8(fround(fround(src[x + j + HALF] * id) + 16.5))) & 0xff;
        dst[o + 6 + j] = (lo & 0x0f) | ((hi & 0x0f) << 4);
        qh |= ((lo >> 4) & 1) << j;
        qh |= ((hi >> 4) & 1) << (j + HALF);
      }
      writeU32(dst, o + 2, qh);
    }
  },
  fields: [float('d'), codes],
  blockFields(src, offset) {
    return { d: readHalf(src, offset), q: fiveBitCodes(src, offset + 2, offset + 6) };
  },
};

// ---------------------------------------------------------------------------------------------
// Q5_1: 24 bytes per 32 values = 6.0 bits per weight
//
//   offset  0  ggml_half d       scale (delta)
//   offset  2  ggml_half m       minimum
//   offset  4  uint8_t   qh[4]   fifth bits, as Q5_0
//   offset  8  uint8_t   qs[16]  low 4 bits, nibble order as Q4_0
//
//   dequantize: y[j] = q[j]*d + m          (two float32 roundings, no FMA)   q in 0..31
//   quantize:   d = (max - min) / 31; id = 1/d; q = (uint8_t)((x - min)*id + 0.5f)   (no clamp in ggml)
//
// layout: ggml/src/ggml-common.h block_q5_1
// math:   ggml/src/ggml-quants.c quantize_row_q5_1_ref / dequantize_row_q5_1

const Q5_1_SIZE = 24;

export const Q5_1: BlockCodec = {
  dequantize(src, dst) {
    checkSizes('Q5_1', QK, Q5_1_SIZE, src.length, dst.length, false);
    for (let o = 0, y = 0; o < src.length; o += Q5_1_SIZE, y += QK) {
      const d = readHalf(src, o);
      const m = readHalf(src, o + 2);
      const qh = readU32(src, o + 4);
      for (let j = 0; j < HALF; j++) {
        const b = src[o + 8 + j];
        const lo = (b & 0x0f) | (((qh >>> j) & 1) << 4);
        const hi = (b >> 4) | (((qh >>> (j + HALF)) & 1) << 4);
        dst[y + j] = fround(lo * d) + m;
        dst[y + j + HALF] = fround(hi * d) + m;
      }
    }
  },
  quantize(src, dst) {
    checkSizes('Q5_1', QK, Q5_1_SIZE, src.length, dst.length, true);
    for (let x = 0, o = 0; x < src.length; x += QK, o += Q5_1_SIZE) {
      const [min, max] = minMax(src, x);
      const d = fround(fround(max - min) / 31);
      const id = inverseOrZero(d);
      writeHalf(dst, o, d);
      writeHalf(dst, o + 2, min);
      let qh = 0;
      for (let j = 0; j < HALF; j++) {
        const lo = castToInt32(fround(fround(fround(src[x + j] - min) * id) + 0.5)) & 0xff;
        const hi = castToInt32(fround(fround(fround(src[x + j + HALF] - min) * id) + 0.5)) & 0xff;
        dst[o + 8 + j] = (lo & 0x0f) | ((hi & 0x0f) << 4);
        qh |= ((lo >> 4) & 1) << j;
        qh |= ((hi >> 4) & 1) << (j + HALF);
      }
      writeU32(dst, o + 4, qh);
    }
  },
  fields: [float('d'), float('m'), codes],
  blockFields(src, offset) {
    return { d: readHalf(src, offset), m: readHalf(src, offset + 2), q: fiveBitCodes(src, offset + 4, offset + 8) };
  },
};

// ---------------------------------------------------------------------------------------------
// Q8_0: 34 bytes per 32 values = 8.5 bits per weight
//
//   offset  0  ggml_half d       scale (delta)
//   offset  2  int8_t    qs[32]  codes in element order
//
//   dequantize: y[j] = q[j] * d          q in -128..127 (the quantizer only emits -127..127)
//   quantize:   d = max|x| / 127; id = 1/d; q = roundf(x*id)            (roundf: halves away from zero)
//
// layout: ggml/src/ggml-common.h block_q8_0
// math:   ggml/src/ggml-quants.c quantize_row_q8_0_ref / dequantize_row_q8_0

const Q8_0_SIZE = 34;

/** Shared by Q8_0 and Q8_1: writes the 32 int8 codes at `qsOffset` and returns their sum. */
function quantizeInt8Codes(src: Float32Array, x: number, id: number, dst: Uint8Array, qsOffset: number): number {
  let sum = 0;
  for (let j = 0; j < QK; j++) {
    const q = castToInt8(roundHalfAway(fround(src[x + j] * id)));
    dst[qsOffset + j] = q & 0xff;
    sum += q;
  }
  return sum;
}

function dequantizeInt8Blocks(src: Uint8Array, dst: Float32Array, typeSize: number): void {
  const signed = new Int8Array(src.buffer, src.byteOffset, src.length);
  for (let o = 0, y = 0; o < src.length; o += typeSize, y += QK) {
    const d = readHalf(src, o);
    const qs = o + typeSize - QK;
    for (let j = 0; j < QK; j++) dst[y + j] = signed[qs + j] * d;
  }
}

export const Q8_0: BlockCodec = {
  dequantize(src, dst) {
    checkSizes('Q8_0', QK, Q8_0_SIZE, src.length, dst.length, false);
    dequantizeInt8Blocks(src, dst, Q8_0_SIZE);
  },
  quantize(src, dst) {
    checkSizes('Q8_0', QK, Q8_0_SIZE, src.length, dst.length, true);
    for (let x = 0, o = 0; x < src.length; x += QK, o += Q8_0_SIZE) {
      const d = fround(absMax(src, x) / 127);
      writeHalf(dst, o, d);
      quantizeInt8Codes(src, x, inverseOrZero(d), dst, o + 2);
    }
  },
  fields: [float('d'), codes],
  blockFields(src, offset) {
    return { d: readHalf(src, offset), q: int8Codes(src, offset + 2) };
  },
};

// ---------------------------------------------------------------------------------------------
// Q8_1: 36 bytes per 32 values = 9.0 bits per weight; ggml uses it only for activations
// (the other operand of Q4_1/Q5_1 dot products), never in model files.
//
//   offset  0  ggml_half d       scale (delta)
//   offset  2  ggml_half s       d * sum(q), precomputed for the dot product's minimum term
//   offset  4  int8_t    qs[32]  codes in element order
//
//   dequantize: y[j] = q[j] * d          q in -128..127 (the quantizer only emits -127..127)
//   quantize:   as Q8_0; then s = (float)sum(q) * d, with d the float scale before f16 rounding
//
// layout: ggml/src/ggml-common.h block_q8_1
// math:   ggml/src/ggml-quants.c quantize_row_q8_1_ref (ggml has no dequantize_row_q8_1;
//         the formula is that of Q8_0)

const Q8_1_SIZE = 36;

export const Q8_1: BlockCodec = {
  dequantize(src, dst) {
    checkSizes('Q8_1', QK, Q8_1_SIZE, src.length, dst.length, false);
    dequantizeInt8Blocks(src, dst, Q8_1_SIZE);
  },
  quantize(src, dst) {
    checkSizes('Q8_1', QK, Q8_1_SIZE, src.length, dst.length, true);
    for (let x = 0, o = 0; x < src.length; x += QK, o += Q8_1_SIZE) {
      const d = fround(absMax(src, x) / 127);
      writeHalf(dst, o, d);
      const sum = quantizeInt8Codes(src, x, inverseOrZero(d), dst, o + 4);
      writeHalf(dst, o + 2, fround(sum * d));
    }
  },
  fields: [float('d'), float('s'), codes],
  blockFields(src, offset) {
    return { d: readHalf(src, offset), s: readHalf(src, offset + 2), q: int8Codes(src, offset + 4) };
  },
};
