// Q6_K, 210 bytes per 256 values: low nibbles ql[128] at 0 (value l of quarter k of half h in
// byte 64h + 32(k & 1) + l, high nibble when k >= 2); high 2 bits qh[64] at 128 (bits 2k..2k+1 of
// byte 32h + l); int8 scales[16] at 192; f16 d at 208. value = (d * scale_j) * (q - 32), groups
// of 16. (Layout: src/quant/kquants.ts.)
#include "blocks/integer-codes.wgsl"

const BLOCK_VALUES = 256u;
const BLOCK_BYTES = 210u;
const GROUP_VALUES = 16u;

fn group_affine(block: u32, j: u32) -> vec2<f32> {
  let scale = (i32(byte_at(block + 192u + j)) << 24u) >> 24u;
  return vec2<f32>(f16_at(block + 208u) * f32(scale), 0.0);
}

fn quad_codes(block: u32, q: u32) -> u32 {
  let e = 4u * q;
  let half = e >> 7u;
  let quarter = (e >> 5u) & 3u;
  let l = e & 31u;
  let low = (u32_at(block + 64u * half + 32u * (quarter & 1u) + l) >> (4u * (quarter >> 1u))) & 0x0f0f0f0fu;
  let high = (u32_at(block + 128u + 32u * half + l) >> (2u * quarter)) & 0x03030303u;
  return sub_bytes(low | (high << 4u), 32u);
}
