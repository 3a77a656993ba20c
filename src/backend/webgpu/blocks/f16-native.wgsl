// F16 read as native f16 vectors (shader-f16): one 8-byte load per quad, no unpacking. Used when
// every quad is 8-byte aligned (rows a multiple of 4 values).
@group(0) @binding({{BLOCKS_BINDING}}) var<storage, read> blocks: array<vec4<f16>>;
#include "blocks/float-rows.wgsl"

const BLOCK_BYTES = 8u;

fn quad_values(block: u32, q: u32) -> vec4<f32> {
  return vec4<f32>(blocks[block >> 3u]);
}

fn row_value(row: u32, i: u32) -> f32 {
  let b = row + 2u * i;
  return f32(blocks[b >> 3u][(b >> 1u) & 3u]);
}
