// Q8_0, 34 bytes per 32 values: f16 d at 0, int8 codes at 2 in value order. value = q * d.
#include "blocks/integer-codes.wgsl"

const BLOCK_VALUES = 32u;
const BLOCK_BYTES = 34u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, g: u32) -> vec2<f32> {
  return vec2<f32>(f16_at(block), 0.0);
}

fn quad_codes(block: u32, q: u32) -> u32 {
  return u32_at(block + 2u + 4u * q);
}
