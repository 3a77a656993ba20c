// The row functions of block types whose values are integer codes under a per-group affine map,
// value = scale * code + offset (rounded as ggml's dequantization rounds: the product, then the
// sum). The type's file defines BLOCK_VALUES, BLOCK_BYTES, GROUP_VALUES, group_affine(block, g)
// -> (scale, offset) and quad_codes(block, q) -> four int8 codes packed in a word. Quantized
// matmul with Q8 activations uses the codes directly: a group's contribution to a dot product is
// scale * dot(codes, x codes) * x scale + offset * sum(x codes) * x scale.
#include "blocks/bytes.wgsl"

// Values 4q..4q+3 of the block at byte `block`.
fn quad_values(block: u32, q: u32) -> vec4<f32> {
  let a = group_affine(block, (q * 4u) / GROUP_VALUES);
  return a.x * vec4<f32>(unpack_codes(quad_codes(block, q))) + a.y;
}

// Values 4q..4q+3 of the row whose first block starts at byte `row`.
fn row_quad(row: u32, q: u32) -> vec4<f32> {
  let per_block = BLOCK_VALUES / 4u;
  return quad_values(row + (q / per_block) * BLOCK_BYTES, q % per_block);
}

// One value (never needed for these types: rows are whole blocks, a multiple of 4 values).
fn row_value(row: u32, i: u32) -> f32 {
  return row_quad(row, i / 4u)[i % 4u];
}

fn row_quad_codes(row: u32, q: u32) -> u32 {
  let per_block = BLOCK_VALUES / 4u;
  return quad_codes(row + (q / per_block) * BLOCK_BYTES, q % per_block);
}

fn row_group_affine(row: u32, g: u32) -> vec2<f32> {
  let per_block = BLOCK_VALUES / GROUP_VALUES;
  return group_affine(row + (g / per_block) * BLOCK_BYTES, g % per_block);
}

