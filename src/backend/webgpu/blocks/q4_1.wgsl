// Q4_1, 20 bytes per 32 values: f16 d at 0, f16 m at 2, codes at 4 (nibble order as Q4_0).
// value = q * d + m. (Layout: src/quant/legacy.ts.)
#include "blocks/integer-codes.wgsl"

const BLOCK_VALUES = 32u;
const BLOCK_BYTES = 20u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, g: u32) -> vec2<f32> {
  return vec2<f32>(f16_at(block), f16_at(block + 2u));
}

fn quad_codes(block: u32, q: u32) -> u32 {
  return (u32_at(block + 4u + 4u * (q & 3u)) >> (4u * (q >> 2u))) & 0x0f0f0f0fu;
}
