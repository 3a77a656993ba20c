// IQ4_NL, 18 bytes per 32 values: f16 d at 0, codes at 2 (nibble order as Q4_0).
// value = d * level[q]. (Layout: src/quant/iquants.ts.)
#include "blocks/integer-codes.wgsl"
#include "blocks/iq4-levels.wgsl"

const BLOCK_VALUES = 32u;
const BLOCK_BYTES = 18u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, g: u32) -> vec2<f32> {
  return vec2<f32>(f16_at(block), 0.0);
}

fn quad_codes(block: u32, q: u32) -> u32 {
  return levels((u32_at(block + 2u + 4u * (q & 3u)) >> (4u * (q >> 2u))) & 0x0f0f0f0fu);
}
