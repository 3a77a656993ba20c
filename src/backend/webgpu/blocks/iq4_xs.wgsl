// IQ4_XS, 136 bytes per 256 values: f16 d at 0; scales_h (u16) at 2 and scales_l[4] at 4 hold
// eight 6-bit scales; codes at 8, 16 bytes per 32-value sub-block (nibble order as IQ4_NL).
// value = (d * (scale_i - 32)) * level[q]. (Layout: src/quant/iquants.ts.)
#include "blocks/integer-codes.wgsl"
#include "blocks/iq4-levels.wgsl"

const BLOCK_VALUES = 256u;
const BLOCK_BYTES = 136u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, i: u32) -> vec2<f32> {
  let low = (byte_at(block + 4u + (i >> 1u)) >> (4u * (i & 1u))) & 0xfu;
  let high = (u16_at(block + 2u) >> (2u * i)) & 3u;
  return vec2<f32>(f16_at(block) * f32(i32(low | (high << 4u)) - 32), 0.0);
}

fn quad_codes(block: u32, q: u32) -> u32 {
  let i = q >> 3u;
  let k = q & 7u;
  return levels((blocks[(block + 8u + 16u * i + 4u * (k & 3u)) >> 2u] >> (4u * (k >> 2u))) & 0x0f0f0f0fu);
}
