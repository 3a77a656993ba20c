// Q4_0, 18 bytes per 32 values: f16 d at 0; 4-bit codes at 2, value j in the low nibble of byte
// j, value j + 16 in the high nibble. value = (q - 8) * d. (Layout: src/quant/legacy.ts.)
#include "blocks/integer-codes.wgsl"

const BLOCK_VALUES = 32u;
const BLOCK_BYTES = 18u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, g: u32) -> vec2<f32> {
  return vec2<f32>(f16_at(block), 0.0);
}

fn quad_codes(block: u32, q: u32) -> u32 {
  let nibbles = (u32_at(block + 2u + 4u * (q & 3u)) >> (4u * (q >> 2u))) & 0x0f0f0f0fu;
  return sub_bytes(nibbles, 8u);
}
