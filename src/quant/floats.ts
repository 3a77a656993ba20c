// Plain floating-point "blocks" of one value: F32 (4 bytes), F16 (IEEE half), BF16 (bfloat16).
// All little-endian, as GGUF stores them.

import type { BlockCodec } from './codec';
import * as io from './block-io';
import { F16_TO_F32_BITS, bf16ToF32, f32ToBf16, f32ToF16 } from './half';

// Module-level copies: compiled to CommonJS, each use of an imported binding is a getter call.
const { readF32, readHalf, readU16, writeU16 } = io;

/** Encodes each float with `toBits` (a 16-bit pattern) as a little-endian uint16. */
function quantize16(src: Float32Array, dst: Uint8Array, toBits: (x: number) => number): void {
  for (let i = 0; i < src.length; i++) writeU16(dst, 2 * i, toBits(src[i]));
}

function u16view(src: Uint8Array): Uint16Array | null {
  return src.byteOffset % 2 === 0 ? new Uint16Array(src.buffer, src.byteOffset, src.length >> 1) : null;
}

export const F32: BlockCodec = {
  dequantize(src, dst) {
    new Uint8Array(dst.buffer, dst.byteOffset, src.length).set(src);
  },
  quantize(src, dst) {
    dst.set(new Uint8Array(src.buffer, src.byteOffset, src.length * 4));
  },
  fields: [{ name: 'value', kind: 'float', length: 1 }],
  blockFields(src, offset) {
    return { value: readF32(src, offset) };
  },
};

export const F16: BlockCodec = {
  dequantize(src, dst) {
    // Integer copies of bit patterns: faster than converting float32 -> float64 -> float32 per value.
    // The table in a local: an imported binding is a getter call per access once compiled to CommonJS.
    const table = F16_TO_F32_BITS;
    const out = new Int32Array(dst.buffer, dst.byteOffset, dst.length);
    const halves = u16view(src);
    const n = src.length >> 1;
    if (halves) for (let i = 0; i < n; i++) out[i] = table[halves[i]];
    else for (let i = 0; i < n; i++) out[i] = table[src[2 * i] | (src[2 * i + 1] << 8)];
  },
  quantize(src, dst) {
    quantize16(src, dst, f32ToF16);
  },
  fields: [{ name: 'value', kind: 'float', length: 1 }],
  blockFields(src, offset) {
    return { value: readHalf(src, offset) };
  },
};

export const BF16: BlockCodec = {
  dequantize(src, dst) {
    const out = new Int32Array(dst.buffer, dst.byteOffset, dst.length); // int32: see F16_TO_F32_BITS
    const n = src.length >> 1;
    for (let i = 0; i < n; i++) out[i] = (src[2 * i] | (src[2 * i + 1] << 8)) << 16;
  },
  quantize(src, dst) {
    quantize16(src, dst, f32ToBf16);
  },
  fields: [{ name: 'value', kind: 'float', length: 1 }],
  blockFields(src, offset) {
    return { value: bf16ToF32(readU16(src, offset)) };
  },
};
