// Q4_K, 144 bytes per 256 values: f16 d at 0, f16 dmin at 2, 8 six-bit scales and mins at 4;
// 4-bit codes at 16 (64-value chunk c in bytes 32c..32c+31: its first 32 values in the low
// nibbles, the next 32 in the high ones). value = (d * sc_j) * q - (dmin * m_j), groups of 32.
// (Layout: src/quant/kquants.ts.)
#include "blocks/integer-codes.wgsl"
#include "blocks/k4-scales.wgsl"

const BLOCK_VALUES = 256u;
const BLOCK_BYTES = 144u;
const GROUP_VALUES = 32u;

fn group_affine(block: u32, j: u32) -> vec2<f32> {
  let sm = scale_min_k4(block + 4u, j);
  return vec2<f32>(f16_at(block) * sm.x, -(f16_at(block + 2u) * sm.y));
}

fn quad_codes(block: u32, q: u32) -> u32 {
  let e = 4u * q;
  let j = e >> 5u;
  return (blocks[(block + 16u + 32u * (j >> 1u) + (e & 31u)) >> 2u] >> (4u * (j & 1u))) & 0x0f0f0f0fu;
}
