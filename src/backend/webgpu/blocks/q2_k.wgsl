// Q2_K, 84 bytes per 256 values: scales[16] at 0 (group j of 16 values: low nibble scale code,
// high nibble min code); 2-bit codes at 16 (value 32k + l of 128-value half h in bits 2k..2k+1 of
// byte 32h + l); f16 d at 80, f16 dmin at 82.
// value = (d * scale_j) * q - (dmin * min_j). (Layout: src/quant/kquants.ts.)
#include "blocks/integer-codes.wgsl"

const BLOCK_VALUES = 256u;
const BLOCK_BYTES = 84u;
const GROUP_VALUES = 16u;

fn group_affine(block: u32, g: u32) -> vec2<f32> {
  let sc = byte_at(block + g);
  return vec2<f32>(f16_at(block + 80u) * f32(sc & 0xfu), -(f16_at(block + 82u) * f32(sc >> 4u)));
}

fn quad_codes(block: u32, q: u32) -> u32 {
  let e = 4u * q;
  let shift = 2u * ((e >> 5u) & 3u);
  return (blocks[(block + 16u + 32u * (e >> 7u) + (e & 31u)) >> 2u] >> shift) & 0x03030303u;
}
