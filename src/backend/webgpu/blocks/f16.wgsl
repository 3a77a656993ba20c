// F16: IEEE half, 2 bytes per value, read as 32-bit words and unpacked.
#include "blocks/bytes.wgsl"
#include "blocks/float-rows.wgsl"

const BLOCK_BYTES = 8u;

fn quad_values(block: u32, q: u32) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(u32_at(block)), unpack2x16float(u32_at(block + 4u)));
}

fn row_value(row: u32, i: u32) -> f32 {
  return f16_at(row + 2u * i);
}
