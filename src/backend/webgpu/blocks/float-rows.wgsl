// The row functions of plain float types (F32, F16, BF16): a "block" is one quad of 4 values, and
// rows of any width end in a partial quad read value by value. The type's file defines
// BLOCK_BYTES (bytes per quad), quad_values(block, 0) and row_value(row, i).
const BLOCK_VALUES = 4u;

fn row_quad(row: u32, q: u32) -> vec4<f32> {
  return quad_values(row + q * BLOCK_BYTES, 0u);
}

