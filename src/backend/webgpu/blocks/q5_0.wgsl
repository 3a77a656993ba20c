// Q5_0, 22 bytes per 32 values: f16 d at 0; qh (32 fifth bits, bit j for value j) at 2; low
// nibbles at 6 (order as Q4_0). value = (q - 16) * d. (Layout: src/quant/legacy.ts.)
#include "blocks/integer-codes.wgsl"
#include "blocks/fifth-bits.wgsl"

const BLOCK_VALUES = 32u;
const BLOCK_BYTES = 22u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, g: u32) -> vec2<f32> {
  return vec2<f32>(f16_at(block), 0.0);
}

fn quad_codes(block: u32, q: u32) -> u32 {
  let nibbles = (u32_at(block + 6u + 4u * (q & 3u)) >> (4u * (q >> 2u))) & 0x0f0f0f0fu;
  return sub_bytes(nibbles | fifth_bits(u32_at(block + 2u), q), 16u);
}
