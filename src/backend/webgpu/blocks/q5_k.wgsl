// Q5_K, 176 bytes per 256 values: as Q4_K, plus qh[32] at 16 (bit 4 of value 32j + l in bit j of
// byte l) and the low nibbles moved to 48. value = (d * sc_j) * q - (dmin * m_j), q in 0..31.
// (Layout: src/quant/kquants.ts.)
#include "blocks/integer-codes.wgsl"
#include "blocks/k4-scales.wgsl"

const BLOCK_VALUES = 256u;
const BLOCK_BYTES = 176u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, j: u32) -> vec2<f32> {
  let sm = scale_min_k4(block + 4u, j);
  return vec2<f32>(f16_at(block) * sm.x, -(f16_at(block + 2u) * sm.y));
}

fn quad_codes(block: u32, q: u32) -> u32 {
  let e = 4u * q;
  let j = e >> 5u;
  let low = (blocks[(block + 48u + 32u * (j >> 1u) + (e & 31u)) >> 2u] >> (4u * (j & 1u))) & 0x0f0f0f0fu;
  let high = (blocks[(block + 16u + (e & 31u)) >> 2u] >> j) & 0x01010101u;
  return low | (high << 4u);
}
