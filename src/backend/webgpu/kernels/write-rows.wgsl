// Rows written over a target's rows at indices (writeRows, llama.cpp's set_rows): each thread copies
// one 32-bit word (f32 and i32 alike) of the dense source rows. A target larger than one binding
// is bound in windows of whole rows, one dispatch each, every dispatch writing only the rows inside
// its window. An index outside the target leaves that row unwritten (a kernel cannot throw; the
// CPU backend reports it).
#include "kernels/common.wgsl"

struct Params {
  count: u32,
  row_words: u32,
  source_offset: u32,
  indices_offset: u32,
  window_first_row: u32,
  window_rows: u32,
  window_shift_words: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> target_words: array<u32>;
@group(0) @binding(2) var<storage, read> source_words: array<u32>;
@group(0) @binding(3) var<storage, read> indices: array<i32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = flat_group(wid, nwg) * {{WG}}u + lid;
  if (e >= params.count) {
    return;
  }
  let row = e / params.row_words;
  let at = indices[params.indices_offset + row];
  if (at < i32(params.window_first_row) || at >= i32(params.window_first_row + params.window_rows)) {
    return;
  }
  let into = params.window_shift_words + (u32(at) - params.window_first_row) * params.row_words;
  target_words[into + e % params.row_words] = source_words[params.source_offset + e];
}
