// IEEE half (f16) and bfloat16 conversions, bit-exact with ggml.
// f32 -> f16 rounds to nearest even and maps NaN to 0x7E00, like ggml_compute_fp32_to_fp16
// (ggml/src/ggml-impl.h) and like the F16C instruction ggml uses on x86.
// f32 -> bf16 rounds to nearest even and quiets NaN, like ggml_compute_fp32_to_bf16.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0];
}

export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0];
}

/** All 65536 f16 values as f32, so decoding a half is one table load. */
export const F16_TO_F32: Float32Array = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 31) v = mant ? NaN : Infinity;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    table[h] = sign * v;
  }
  return table;
})();

/**
 * The same table as float32 bit patterns, for copying halves to floats without float conversions.
 * Int32 (not Uint32): V8 keeps int32 loads and stores unboxed; uint32 values >= 2^31 (every
 * negative float) fall off the fast path and made F16 decoding 4x slower.
 */
export const F16_TO_F32_BITS: Int32Array = new Int32Array(F16_TO_F32.buffer);

export function f16ToF32(h: number): number {
  return F16_TO_F32[h & 0xffff];
}

/** Round a float32 to the nearest f16 (ties to even); returns the 16-bit pattern. */
export function f32ToF16(x: number): number {
  const w = f32Bits(x);
  const sign = (w >>> 16) & 0x8000;
  const abs = w & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00; // NaN
  if (abs >= 0x477ff000) return sign | 0x7c00; // rounds to >= 65520: infinity
  if (abs < 0x38800000) {
    // Result is subnormal (or zero): value / 2^-24 rounded to nearest even integer.
    // 2^-24 spacing; x * 2^24 is exact in float64 and Math.round would round ties up, so do it by hand.
    const scaled = Math.abs(f32FromBits(abs)) * 2 ** 24;
    const floor = Math.floor(scaled);
    const frac = scaled - floor;
    let m = floor;
    if (frac > 0.5 || (frac === 0.5 && (floor & 1) === 1)) m++;
    return sign | m; // m may reach 0x400, which is exactly the smallest normal: still correct bits
  }
  // Normal: rebias exponent, round 23-bit mantissa to 10 bits, ties to even (carry may bump exponent).
  const exp = (abs >>> 23) - 127 + 15;
  const mant = abs & 0x7fffff;
  let h = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

export function bf16ToF32(h: number): number {
  return f32FromBits((h & 0xffff) << 16);
}

export function f32ToBf16(x: number): number {
  const w = f32Bits(x);
  if ((w & 0x7fffffff) > 0x7f800000) return ((w >>> 16) | 64) & 0xffff;
  return ((w + (0x7fff + ((w >>> 16) & 1))) >>> 16) & 0xffff;
}
