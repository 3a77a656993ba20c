// One part of a concatenation: copies a dense input into its place in the dense output, as 32-bit
// words (f32 and i32 alike). The output is [outer, total along the axis x inner]; this part fills
// `chunk` words of each of the `outer` rows, starting at `out_offset` within each.
#include "kernels/common.wgsl"

struct Params {
  count: u32,
  chunk: u32,
  out_row: u32,
  out_offset: u32,
  in_offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> part: array<u32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = flat_group(wid, nwg) * {{WG}}u + lid;
  if (e >= params.count) {
    return;
  }
  let row = e / params.chunk;
  let j = e % params.chunk;
  out[row * params.out_row + params.out_offset + j] = part[params.in_offset + e];
}
