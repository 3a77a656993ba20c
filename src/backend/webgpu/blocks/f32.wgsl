// F32: 4 bytes per value.
#include "blocks/bytes.wgsl"
#include "blocks/float-rows.wgsl"

const BLOCK_BYTES = 16u;

fn quad_values(block: u32, q: u32) -> vec4<f32> {
  let i = block >> 2u;
  return bitcast<vec4<f32>>(vec4<u32>(blocks[i], blocks[i + 1u], blocks[i + 2u], blocks[i + 3u]));
}

fn row_value(row: u32, i: u32) -> f32 {
  return bitcast<f32>(blocks[(row >> 2u) + i]);
}
