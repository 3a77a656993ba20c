// BF16: the top 16 bits of an f32, 2 bytes per value.
#include "blocks/bytes.wgsl"
#include "blocks/float-rows.wgsl"

const BLOCK_BYTES = 8u;

fn quad_values(block: u32, q: u32) -> vec4<f32> {
  let a = u32_at(block);
  let b = u32_at(block + 4u);
  return bitcast<vec4<f32>>(vec4<u32>(a << 16u, a & 0xffff0000u, b << 16u, b & 0xffff0000u));
}

fn row_value(row: u32, i: u32) -> f32 {
  return bitcast<f32>(u16_at(row + 2u * i) << 16u);
}
