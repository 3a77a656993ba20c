// What every block format family shares below its math: reading and writing the little-endian
// fields of a block (f16, f32, integers), C's narrowing of an int to int8_t, the size checks of a
// codec's source and destination, and 4-bit codes stored as low and high nibbles. Then the few
// scalar steps of ggml's reference quantizers that more than one family repeats word for word
// (nearest_int, the value of largest magnitude, `d ? 1/d : 0`, GROUP_MAX_EPS).
//
// Callers in hot loops should read these through module-level consts (see legacy.ts): compiled to
// CommonJS, each access of an imported binding is a getter call.

import { F16_TO_F32 as F16_TABLE, f32Bits as f32BitsImport, f32FromBits as f32FromBitsImport, f32ToF16 as f32ToF16Import } from './half';

const F16_TO_F32 = F16_TABLE;
const f32Bits = f32BitsImport;
const f32FromBits = f32FromBitsImport;
const f32ToF16 = f32ToF16Import;
const fround = Math.fround;

// ---------------------------------------------------------------------------------------------
// Little-endian fields

/** The ggml_half (f16) at `offset`, as a float. */
export function readHalf(src: Uint8Array, offset: number): number {
  return F16_TO_F32[src[offset] | (src[offset + 1] << 8)];
}

/**
 * Store x as f16 (ggml's GGML_FP32_TO_FP16: nearest, ties to even) and return the stored value as
 * a float, for code that re-reads the rounded scale as the C code does.
 */
export function writeHalf(dst: Uint8Array, offset: number, x: number): number {
  const h = f32ToF16(x);
  dst[offset] = h & 0xff;
  dst[offset + 1] = h >> 8;
  return F16_TO_F32[h];
}

export function readU16(src: Uint8Array, offset: number): number {
  return src[offset] | (src[offset + 1] << 8);
}

/** Stores the low 16 bits of v (a negative int16 as its two's complement). */
export function writeU16(dst: Uint8Array, offset: number, v: number): void {
  dst[offset] = v & 0xff;
  dst[offset + 1] = (v >> 8) & 0xff;
}

export function readI16(src: Uint8Array, offset: number): number {
  return ((src[offset] | (src[offset + 1] << 8)) << 16) >> 16;
}

export function readU32(src: Uint8Array, offset: number): number {
  return (src[offset] | (src[offset + 1] << 8) | (src[offset + 2] << 16) | (src[offset + 3] << 24)) >>> 0;
}

export function writeU32(dst: Uint8Array, offset: number, x: number): void {
  dst[offset] = x & 0xff;
  dst[offset + 1] = (x >>> 8) & 0xff;
  dst[offset + 2] = (x >>> 16) & 0xff;
  dst[offset + 3] = x >>> 24;
}

/** The float32 at `offset`. */
export function readF32(src: Uint8Array, offset: number): number {
  return f32FromBits(readU32(src, offset));
}

/** Store x (a float32 value) at `offset`. */
export function writeF32(dst: Uint8Array, offset: number, x: number): void {
  writeU32(dst, offset, f32Bits(x));
}

/** C's narrowing of an int to int8_t: the low byte, sign-extended (also reads an int8_t field). */
export function toInt8(v: number): number {
  return (v << 24) >> 24;
}

// ---------------------------------------------------------------------------------------------
// Sizes

/**
 * Throws unless `src` is whole blocks and `dst` can take them all; returns the number of blocks.
 * Encoding, src holds values (blockSize per block) and dst bytes (typeSize per block); decoding,
 * the other way round.
 */
export function checkSizes(
  name: string,
  blockSize: number,
  typeSize: number,
  srcLength: number,
  dstLength: number,
  encoding: boolean,
): number {
  const blocks = encoding ? srcLength / blockSize : srcLength / typeSize;
  if (!Number.isInteger(blocks)) {
    throw new RangeError(
      encoding
        ? `${name}: ${srcLength} values are not a whole number of ${blockSize}-value blocks`
        : `${name}: ${srcLength} bytes are not a whole number of ${typeSize}-byte blocks`,
    );
  }
  const needed = encoding ? blocks * typeSize : blocks * blockSize;
  if (dstLength < needed) {
    throw new RangeError(`${name}: destination holds ${dstLength} ${encoding ? 'bytes' : 'values'}, ${needed} needed`);
  }
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// 4-bit codes
//
// ggml stores 4-bit codes in runs of `groupBytes` bytes: the first groupBytes codes of a run are
// the low nibbles of its bytes in order, the next groupBytes the high nibbles. The legacy formats
// and the i-quants use 16-byte runs (32 values: element j in the low nibble of qs[j], j+16 in the
// high one); Q4_K and Q5_K use 32-byte runs (64 values).

/** `count` codes from the nibbles at `offset`, in element order. */
export function nibbleCodes(src: Uint8Array, offset: number, count: number, groupBytes: number): number[] {
  const q = new Array<number>(count);
  for (let g = 0; g < count; g += 2 * groupBytes) {
    const o = offset + g / 2;
    for (let j = 0; j < groupBytes; j++) {
      q[g + j] = src[o + j] & 0x0f;
      q[g + groupBytes + j] = src[o + j] >> 4;
    }
  }
  return q;
}

/** Inverse of nibbleCodes: bits 0..3 of `count` codes into count/2 bytes at `offset`. */
export function packNibbles(codes: ArrayLike<number>, count: number, groupBytes: number, dst: Uint8Array, offset: number): void {
  for (let g = 0; g < count; g += 2 * groupBytes) {
    const o = offset + g / 2;
    for (let j = 0; j < groupBytes; j++) dst[o + j] = (codes[g + j] & 0x0f) | ((codes[g + groupBytes + j] & 0x0f) << 4);
  }
}

// ---------------------------------------------------------------------------------------------
// Scalar steps of the reference quantizers

/** ggml's GROUP_MAX_EPS (1e-15f): a group whose largest |x| is below this is all zero. */
export const GROUP_MAX_EPS = fround(1e-15);

/**
 * ggml's nearest_int: adds 1.5 * 2^23 in float32 and reads the integer out of the mantissa bits,
 * which rounds halves to even. Outside |x| <= 2^22 the C function returns whatever the mantissa
 * holds; that is reproduced too (huge or non-finite inputs then clamp like in C).
 */
export function nearestInt(x: number): number {
  const shifted = fround(x + 12582912);
  // Fast path: in [2^23, 2^24) the mantissa is exactly shifted - 2^23.
  if (shifted >= 8388608 && shifted < 16777216) return shifted - 12582912;
  return (f32Bits(shifted) & 0x007fffff) - 0x00400000;
}

/**
 * The value of largest magnitude in x[offset, offset+n), sign kept; 0 when all are zero. The
 * first one wins ties and NaNs are passed over, as the C loops
 * `if (ax > amax) { amax = ax; max = x[i]; }` that every family uses have it.
 */
export function signedAbsMax(x: ArrayLike<number>, offset: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = x[offset + i];
    const a = Math.abs(v);
    if (a > amax) {
      amax = a;
      max = v;
    }
  }
  return max;
}

/** C's `d ? 1.0f/d : 0.0f` (NaN counts as true in C, so compare with zero explicitly). */
export function inverseOrZero(d: number): number {
  return d !== 0 ? fround(1 / d) : 0;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
