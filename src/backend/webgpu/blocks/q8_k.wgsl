// Q8_K, 292 bytes per 256 values: f32 d at 0, int8 codes at 4, int16 bsums at 260 (unused here).
// value = d * q. One scale per block; groups of 32 share it.
#include "blocks/integer-codes.wgsl"

const BLOCK_VALUES = 256u;
const BLOCK_BYTES = 292u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, g: u32) -> vec2<f32> {
  return vec2<f32>(f32_at(block), 0.0);
}

fn quad_codes(block: u32, q: u32) -> u32 {
  return blocks[(block >> 2u) + 1u + q];
}
