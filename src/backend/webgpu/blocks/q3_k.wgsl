// Q3_K, 110 bytes per 256 values: hmask[32] at 0 (high bit of value e in bit e/32 of byte e%32);
// low 2 bits at 32 (laid out as Q2_K's); 16 six-bit scale codes packed in 12 bytes at 96 (offset
// by 32); f16 d at 108. value = (d * (s_j - 32)) * q, q = low2 - (high bit ? 0 : 4).
// (Layout: src/quant/kquants.ts.)
#include "blocks/integer-codes.wgsl"

const BLOCK_VALUES = 256u;
const BLOCK_BYTES = 110u;
const GROUP_VALUES = 16u;

fn group_affine(block: u32, j: u32) -> vec2<f32> {
  let s = block + 96u;
  let b = byte_at(s + (j & 7u));
  let low = select(b >> 4u, b & 0xfu, j < 8u);
  let high = (byte_at(s + 8u + (j & 3u)) >> (2u * (j >> 2u))) & 3u;
  return vec2<f32>(f16_at(block + 108u) * f32(i32(low | (high << 4u)) - 32), 0.0);
}

fn quad_codes(block: u32, q: u32) -> u32 {
  let e = 4u * q;
  let low = (u32_at(block + 32u + 32u * (e >> 7u) + (e & 31u)) >> (2u * ((e >> 5u) & 3u))) & 0x03030303u;
  let high = (u32_at(block + (e & 31u)) >> (e >> 5u)) & 0x01010101u;
  return sub_bytes(low | (high << 2u), 4u);
}
