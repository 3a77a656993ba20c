// A concatenation in one dispatch: each thread writes one 32-bit word (f32 and i32 alike) of the
// dense output, taken from the part its column falls in. The output is [outer, out_row] words per
// row; this dispatch writes the `width` columns starting at `out_start` (all of them, unless the
// parts need more bindings than the device has and come in groups), from PARTS dense inputs whose
// (chunk = columns per row, offset) are in `parts`. concat.ts generates the bindings and `pick`.
#include "kernels/common.wgsl"

struct Params {
  count: u32,
  width: u32,
  out_row: u32,
  out_start: u32,
  parts: array<vec4<u32>, {{PARTS}}>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
{{PART_BINDINGS}}

// Word `column` of row `row` of the parts laid side by side.
fn pick(row: u32, column: u32) -> u32 {
  var j = column;
{{PICK}}
}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = flat_group(wid, nwg) * {{WG}}u + lid;
  if (e >= params.count) {
    return;
  }
  let row = e / params.width;
  let column = e % params.width;
  out[row * params.out_row + params.out_start + column] = pick(row, column);
}
