// Weight blocks as the float numeric mode reads them (c/linear-float.c). Every quantized value is
//   value = d * code + offset
// with `code` an exact small integer, decoded in SIMD registers 32 values (a group) at a time as
// four int16x8; `d` one float per block (its f16 scale); `offset` one float64 per 16 or 32 values, zero
// for the types without a min. Codes are centred (q - 8 for four-bit codes, q - 16 for five-bit,
// ...) with the centre moved into the offset, so that float32 sums of code * x stay about as
// large as the sums of value * x they stand for; K-quant codes carry their integer sub-block scale
// (at most 4096 in magnitude). The reference dequantizers these reproduce are in quant/legacy.ts,
// quant/kquants.ts and quant/iquants.ts; layouts: ggml-common.h (block_q4_0 ... block_iq4_xs).
#pragma once
#include "kquants.h"

/** Weight types of the float mode; wasm/linear-float.ts passes these numbers. */
enum {
  W_F32, W_F16, W_BF16,
  W_Q4_0, W_Q4_1, W_Q5_0, W_Q5_1, W_Q8_0,
  W_Q2_K, W_Q3_K, W_Q4_K, W_Q5_K, W_Q6_K,
  W_IQ4_NL, W_IQ4_XS,
};

static inline int is_float_type(int type) { return type <= W_BF16; }

/** Values per block of a quantized type. */
static inline int block_values(int type) {
  return type >= W_Q2_K && type != W_IQ4_NL ? 256 : 32;
}

/** Bytes per block of a quantized type. */
static inline int block_bytes(int type) {
  switch (type) {
    case W_Q4_0: return 18;
    case W_Q4_1: return 20;
    case W_Q5_0: return 22;
    case W_Q5_1: return 24;
    case W_Q8_0: return 34;
    case W_Q2_K: return 84;
    case W_Q3_K: return 110;
    case W_Q4_K: return 144;
    case W_Q5_K: return 176;
    case W_Q6_K: return 210;
    case W_IQ4_NL: return 18;
    default: return 136; // W_IQ4_XS
  }
}

/** Whether values have a non-zero offset (a min, or a centre moved out of the codes). */
static inline int has_offsets(int type) {
  return type == W_Q4_1 || type == W_Q5_1 || type == W_Q2_K || type == W_Q4_K || type == W_Q5_K;
}

/** What a block holds besides its codes. */
typedef struct {
  float d;
  /** K-quants and IQ4_XS: the integer sub-block scale of each 16 values. */
  int16_t sub[16];
} block_scales;

/** kvalues_iq4nl (ggml-common.h): the 16 levels an IQ4 code selects. */
static inline v128_t iq4_levels(void) {
  return wasm_i8x16_make(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
}

/** The low and the high nibbles of 16 bytes. */
static inline v128_t low_nibbles(v128_t p) { return wasm_v128_and(p, wasm_i8x16_splat(0x0f)); }
static inline v128_t high_nibbles(v128_t p) { return wasm_v128_and(wasm_u16x8_shr(p, 4), wasm_i8x16_splat(0x0f)); }

/** Bits `k`, `k + 1` of each byte (the 16-bit shift's bits from the neighbouring byte are masked off). */
static inline v128_t two_bits(v128_t p, int k) { return wasm_v128_and(wasm_u16x8_shr(p, k), wasm_i8x16_splat(3)); }

/** `value` in each byte where bit `bit` of that byte of p is set, else 0. */
static inline v128_t bit_as(v128_t p, int bit, int8_t value) {
  v128_t mask = wasm_i8x16_splat((int8_t)(1 << bit));
  return wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(p, mask), mask), wasm_i8x16_splat(value));
}

/**
 * The sixteen 6-bit scales of a Q3_K block, minus 32 (12 bytes at `packed`): scale k has its low
 * four bits in the low nibble of byte k (k < 8) or the high nibble of byte k - 8, and its high two
 * bits in bits 2 (k / 4), +1 of byte 8 + k % 4.
 */
static inline v128_t q3_k_scales_minus_32(const uint8_t* packed) {
  v128_t bytes = wasm_v128_load64_zero(packed);
  v128_t low = wasm_i64x2_shuffle(low_nibbles(bytes), high_nibbles(bytes), 0, 2);
  uint32_t h = packed[8] | packed[9] << 8 | packed[10] << 16 | (uint32_t)packed[11] << 24;
  // int32 lane g holds h >> 2g: its byte i is byte 8 + i shifted right by 2g, scale k = 4g + i's bits
  v128_t high = wasm_v128_and(wasm_i32x4_make(h, h >> 2, h >> 4, h >> 6), wasm_i8x16_splat(3));
  return wasm_i8x16_sub(wasm_v128_or(low, wasm_i16x8_shl(high, 4)), wasm_i8x16_splat(32));
}

/** Each of eight sub-block scales (bytes 0..7 of s) once for each of its two 16-value halves, as int16. */
static inline void sub_scales_per_32(v128_t s, int16_t sub[16]) {
  v128_t doubled = wasm_i8x16_shuffle(s, s, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  wasm_v128_store(sub, wasm_i16x8_extend_low_i8x16(doubled));
  wasm_v128_store(sub + 8, wasm_i16x8_extend_high_i8x16(doubled));
}

/** A block's scales (once per block; for the super-block types once per 256 values). */
static inline void read_block(int type, const uint8_t* block, block_scales* s) {
  switch (type) {
    case W_Q2_K: { // scales[16] at 0: the scale in the low nibble; d at 80
      s->d = f16_at(block + 80);
      v128_t q2 = low_nibbles(wasm_v128_load(block));
      wasm_v128_store(s->sub, wasm_u16x8_extend_low_u8x16(q2));
      wasm_v128_store(s->sub + 8, wasm_u16x8_extend_high_u8x16(q2));
      return;
    }
    case W_Q3_K: { // scales at 96, d at 108
      s->d = f16_at(block + 108);
      v128_t q3 = q3_k_scales_minus_32(block + 96);
      wasm_v128_store(s->sub, wasm_i16x8_extend_low_i8x16(q3));
      wasm_v128_store(s->sub + 8, wasm_i16x8_extend_high_i8x16(q3));
      return;
    }
    case W_Q4_K:
    case W_Q5_K: // d at 0, the scales and mins at 4 (scales_mins_k4; scales < 64, so int8 is exact)
      s->d = f16_at(block);
      sub_scales_per_32(scales_mins_k4(block + 4), s->sub);
      return;
    case W_Q6_K: { // int8 scales[16] at 192, d at 208
      s->d = f16_at(block + 208);
      v128_t q6 = wasm_v128_load(block + 192);
      wasm_v128_store(s->sub, wasm_i16x8_extend_low_i8x16(q6));
      wasm_v128_store(s->sub + 8, wasm_i16x8_extend_high_i8x16(q6));
      return;
    }
    case W_IQ4_XS: { // d at 0, scales_h (u16) at 2, scales_l[4] at 4: scale j = low nibble j | 2 bits j of scales_h << 4, minus 32
      s->d = f16_at(block);
      uint32_t high = block[2] | block[3] << 8;
      int8_t scales[16] = { 0 };
      for (int j = 0; j < 8; j++) scales[j] = (int8_t)((((block[4 + j / 2] >> (4 * (j & 1))) & 15) | ((high >> (2 * j)) & 3) << 4) - 32);
      sub_scales_per_32(wasm_v128_load(scales), s->sub);
      return;
    }
    default: // legacy blocks and IQ4_NL: f16 d first
      s->d = f16_at(block);
  }
}

/**
 * Group j (values 32j .. 32j + 31) of a block: its codes, c[0] values 0..7 ... c[3] values 24..31.
 * Layouts, with v the value's index in the block:
 *   Q4_0  f16 d, qs[16]:               v < 16 low nibble of qs[v], else high nibble of qs[v - 16]; code q - 8
 *   Q4_1  f16 d, f16 m, qs[16]:        as Q4_0; code q - 8, offset m + 8d
 *   Q5_0  f16 d, u32 qh, qs[16]:       nibble as Q4_0, fifth bit bit v of qh; code q - 16
 *   Q5_1  f16 d, f16 m, u32 qh, qs:    as Q5_0; code q - 16, offset m + 16d
 *   Q8_0  f16 d, int8 qs[32]:          code qs[v]
 *   IQ4_NL f16 d, qs[16]:              nibbles as Q4_0; code kvalues_iq4nl[q]
 * and for v = 128n + 32k + l (n < 2, k < 4, l < 32; so j = 4n + k), s the 16-value sub-block v / 16:
 *   Q2_K  qs at 16:   bits 2k, 2k+1 of byte 32n + l;                   code sc_s * (q - 2)
 *   Q3_K  hmask at 0, qs at 32: low bits as Q2_K, third bit bit j of hmask[l]; q = low | third << 2;
 *                     code (scale_s - 32) * (q - 4)
 *   Q6_K  ql at 0, qh at 128: low nibble (k < 2) or high nibble (k >= 2) of ql[64n + 32(k & 1) + l],
 *                     bits 2k, 2k+1 of qh[32n + l] above it;           code scale_s * (q - 32)
 * and for v = 32j + l with the packed nibbles of two groups in 32 bytes (low: even j, high: odd j):
 *   Q4_K  qs at 16 + 32 (j / 2);                                       code sc_j * (q - 8)
 *   Q5_K  qs at 48 + 32 (j / 2), fifth bit bit j of qh[l] (qh at 16); code sc_j * (q - 16)
 *   IQ4_XS qs at 8 + 16j: nibbles as Q4_0;                             code (scale_j - 32) * kvalues_iq4nl[q]
 */
static inline __attribute__((always_inline)) void decode_group(int type, const uint8_t* block, const block_scales* s, int j, v128_t c[4]) {
  v128_t lo, hi; // int8 codes of values 0..15 and 16..31
  int n = j >> 2, k = j & 3;
  switch (type) {
    case W_Q4_0:
    case W_Q4_1: {
      v128_t p = wasm_v128_load(block + (type == W_Q4_0 ? 2 : 4));
      lo = wasm_i8x16_sub(low_nibbles(p), wasm_i8x16_splat(8));
      hi = wasm_i8x16_sub(high_nibbles(p), wasm_i8x16_splat(8));
      break;
    }
    case W_Q5_0:
    case W_Q5_1: {
      const uint8_t* q = block + (type == W_Q5_0 ? 2 : 4);
      uint32_t qh = q[0] | q[1] << 8 | q[2] << 16 | (uint32_t)q[3] << 24;
      v128_t p = wasm_v128_load(q + 4);
      lo = wasm_i8x16_sub(wasm_v128_or(low_nibbles(p), fifth_bits(qh & 0xffff)), wasm_i8x16_splat(16));
      hi = wasm_i8x16_sub(wasm_v128_or(high_nibbles(p), fifth_bits(qh >> 16)), wasm_i8x16_splat(16));
      break;
    }
    case W_Q8_0:
      lo = wasm_v128_load(block + 2);
      hi = wasm_v128_load(block + 18);
      break;
    case W_IQ4_NL:
    case W_IQ4_XS: {
      v128_t p = wasm_v128_load(block + (type == W_IQ4_NL ? 2 : 8 + 16 * j));
      lo = wasm_i8x16_swizzle(iq4_levels(), low_nibbles(p));
      hi = wasm_i8x16_swizzle(iq4_levels(), high_nibbles(p));
      break;
    }
    case W_Q2_K:
      lo = wasm_i8x16_sub(two_bits(wasm_v128_load(block + 16 + 32 * n), 2 * k), wasm_i8x16_splat(2));
      hi = wasm_i8x16_sub(two_bits(wasm_v128_load(block + 32 + 32 * n), 2 * k), wasm_i8x16_splat(2));
      break;
    case W_Q3_K:
      lo = wasm_i8x16_sub(wasm_v128_or(two_bits(wasm_v128_load(block + 32 + 32 * n), 2 * k), bit_as(wasm_v128_load(block), j, 4)), wasm_i8x16_splat(4));
      hi = wasm_i8x16_sub(wasm_v128_or(two_bits(wasm_v128_load(block + 48 + 32 * n), 2 * k), bit_as(wasm_v128_load(block + 16), j, 4)), wasm_i8x16_splat(4));
      break;
    case W_Q4_K: {
      const uint8_t* q = block + 16 + 32 * (j >> 1);
      v128_t p0 = wasm_v128_load(q), p1 = wasm_v128_load(q + 16);
      lo = wasm_i8x16_sub(j & 1 ? high_nibbles(p0) : low_nibbles(p0), wasm_i8x16_splat(8));
      hi = wasm_i8x16_sub(j & 1 ? high_nibbles(p1) : low_nibbles(p1), wasm_i8x16_splat(8));
      break;
    }
    case W_Q5_K: {
      const uint8_t* q = block + 48 + 32 * (j >> 1);
      v128_t p0 = wasm_v128_load(q), p1 = wasm_v128_load(q + 16);
      lo = wasm_i8x16_sub(wasm_v128_or(j & 1 ? high_nibbles(p0) : low_nibbles(p0), bit_as(wasm_v128_load(block + 16), j, 16)), wasm_i8x16_splat(16));
      hi = wasm_i8x16_sub(wasm_v128_or(j & 1 ? high_nibbles(p1) : low_nibbles(p1), bit_as(wasm_v128_load(block + 32), j, 16)), wasm_i8x16_splat(16));
      break;
    }
    default: { // W_Q6_K
      const uint8_t* ql = block + 64 * n + 32 * (k & 1);
      v128_t l0 = wasm_v128_load(ql), l1 = wasm_v128_load(ql + 16);
      v128_t h0 = wasm_v128_load(block + 128 + 32 * n), h1 = wasm_v128_load(block + 144 + 32 * n);
      // bits 2k, 2k+1 of qh moved to bits 4, 5 (16-bit shifts, the neighbouring byte's bits masked off)
      v128_t m = wasm_i8x16_splat(0x30);
      v128_t t0 = k < 2 ? wasm_i16x8_shl(h0, 4 - 2 * k) : wasm_u16x8_shr(h0, 2 * k - 4);
      v128_t t1 = k < 2 ? wasm_i16x8_shl(h1, 4 - 2 * k) : wasm_u16x8_shr(h1, 2 * k - 4);
      lo = wasm_i8x16_sub(wasm_v128_or(k < 2 ? low_nibbles(l0) : high_nibbles(l0), wasm_v128_and(t0, m)), wasm_i8x16_splat(32));
      hi = wasm_i8x16_sub(wasm_v128_or(k < 2 ? low_nibbles(l1) : high_nibbles(l1), wasm_v128_and(t1, m)), wasm_i8x16_splat(32));
    }
  }
  c[0] = wasm_i16x8_extend_low_i8x16(lo);
  c[1] = wasm_i16x8_extend_high_i8x16(lo);
  c[2] = wasm_i16x8_extend_low_i8x16(hi);
  c[3] = wasm_i16x8_extend_high_i8x16(hi);
  if (block_values(type) == 256) {
    v128_t first = wasm_i16x8_splat(s->sub[2 * j]), second = wasm_i16x8_splat(s->sub[2 * j + 1]);
    c[0] = wasm_i16x8_mul(c[0], first);
    c[1] = wasm_i16x8_mul(c[1], first);
    c[2] = wasm_i16x8_mul(c[2], second);
    c[3] = wasm_i16x8_mul(c[3], second);
  }
}

/** Values per offset: 16 for Q2_K, 32 for the others with offsets (activation_sums sums as many). */
static inline int offset_values(int type) { return type == W_Q2_K ? 16 : 32; }

/** The offset of a Q4_1 / Q5_1 block's values: m + 8d / m + 16d (f16 d at 0, f16 m at 2), exact in float64. */
static inline double legacy_offset(int type, const uint8_t* block) {
  return (double)f16_at(block + 2) + (type == W_Q4_1 ? 8 : 16) * (double)f16_at(block);
}

/** legacy_offset of four consecutive blocks, as two float64 pairs. */
static inline void legacy_offsets4(int type, const uint8_t* first, v128_t off[2]) {
  int bytes = block_bytes(type);
  const uint8_t *b0 = first, *b1 = first + bytes, *b2 = first + 2 * bytes, *b3 = first + 3 * bytes;
  v128_t d = f16x4_to_f32(b0, b1, b2, b3), m = f16x4_to_f32(b0 + 2, b1 + 2, b2 + 2, b3 + 2);
  v128_t centre = wasm_f64x2_splat(type == W_Q4_1 ? 8 : 16);
  off[0] = wasm_f64x2_add(wasm_f64x2_promote_low_f32x4(m), wasm_f64x2_mul(centre, wasm_f64x2_promote_low_f32x4(d)));
  off[1] = wasm_f64x2_add(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(m, m, 2, 3, 2, 3)),
                          wasm_f64x2_mul(centre, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(d, d, 2, 3, 2, 3))));
}

/** The first n (8 or 16) bytes of v, unsigned, as n / 2 float64 pairs. */
static inline void bytes_to_f64(v128_t v, int n, v128_t* out) {
  UNROLL for (int i = 0; i < n / 4; i++) {
    v128_t half = i < 2 ? wasm_u16x8_extend_low_u8x16(v) : wasm_u16x8_extend_high_u8x16(v);
    v128_t quad = i & 1 ? wasm_u32x4_extend_high_u16x8(half) : wasm_u32x4_extend_low_u16x8(half);
    out[2 * i] = wasm_f64x2_convert_low_i32x4(quad);
    out[2 * i + 1] = wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(quad, quad, 2, 3, 2, 3));
  }
}

/**
 * The offsets of a K-quant super-block's values as float64 pairs (exact: f16 scales times small
 * integers); returns how many pairs:
 *   Q2_K         16 offsets, one per 16 values: 2 d sc_s - dmin m_s (scales[s]: sc low nibble,
 *                m high nibble; d at 80, dmin at 82)
 *   Q4_K / Q5_K  8 offsets, one per 32 values: 8 d sc_j - dmin m_j / 16 d sc_j - dmin m_j (d at 0,
 *                dmin at 2, scales_mins_k4)
 */
static inline int kquant_offsets(int type, const uint8_t* block, v128_t off[8]) {
  v128_t sc[8], m[8], d, dmin;
  int n;
  if (type == W_Q2_K) {
    v128_t packed = wasm_v128_load(block);
    bytes_to_f64(low_nibbles(packed), 16, sc);
    bytes_to_f64(high_nibbles(packed), 16, m);
    d = wasm_f64x2_splat(2 * (double)f16_at(block + 80));
    dmin = wasm_f64x2_splat(f16_at(block + 82));
    n = 8;
  } else {
    v128_t sm = scales_mins_k4(block + 4);
    bytes_to_f64(sm, 8, sc);
    bytes_to_f64(wasm_i64x2_shuffle(sm, sm, 1, 1), 8, m);
    d = wasm_f64x2_splat((type == W_Q4_K ? 8 : 16) * (double)f16_at(block));
    dmin = wasm_f64x2_splat(f16_at(block + 2));
    n = 4;
  }
  UNROLL for (int i = 0; i < 8; i++) {
    if (i < n) off[i] = wasm_f64x2_sub(wasm_f64x2_mul(d, sc[i]), wasm_f64x2_mul(dmin, m[i]));
  }
  return n;
}
