// Rows of a table by index (embedding lookup), decoded from any block type into f32: one thread
// per 4 output values. A table larger than one binding is read window by window (one dispatch
// each, every dispatch writing only the rows inside its window), and a large output chunk by
// chunk. An index outside the table gives a row of NaN (a kernel cannot throw), written by the
// first window's dispatch.
#include "kernels/common.wgsl"
#include "{{DECODER}}"

struct Params {
  count: u32,
  width: u32,
  quads: u32,
  table_rows: u32,
  ids_offset: u32,
  row_first: u32,
  row_count: u32,
  row_bytes: u32,
  byte_shift: u32,
  writes_invalid: u32,
}

// Binding 3 is the weight (table) blocks, declared by the decoder included above.
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = flat_group(wid, nwg) * {{WG}}u + lid;
  if (t >= params.count * params.quads) {
    return;
  }
  let k = t / params.quads;
  let q = t % params.quads;
  let id = ids[params.ids_offset + k];
  let first = 4u * q;
  let o = k * params.width + first;
  if (id < 0 || u32(id) >= params.table_rows) {
    if (params.writes_invalid != 0u) {
      for (var c = 0u; c < 4u && first + c < params.width; c++) {
        out[o + c] = f32_from_bits(NAN_BITS);
      }
    }
    return;
  }
  let r = u32(id);
  if (r < params.row_first || r >= params.row_first + params.row_count) {
    return;
  }
  let row = params.byte_shift + (r - params.row_first) * params.row_bytes;
  if (first + 4u <= params.width) {
    let v = row_quad(row, q);
    out[o] = v.x;
    out[o + 1u] = v.y;
    out[o + 2u] = v.z;
    out[o + 3u] = v.w;
  } else {
    for (var c = 0u; first + c < params.width; c++) {
      out[o + c] = row_value(row, first + c);
    }
  }
}
