// Softmax over each row of scale * x, one workgroup per row, with the causal mask of the CPU
// reference: in row i of each matrix (i indexes the second-to-last axis), columns j > i + offset
// are masked (written as 0); a fully masked row is all zeros.
#include "kernels/common.wgsl"
{{REDUCTIONS}}

struct Params {
  rows: u32,
  width: u32,
  rows_per_matrix: u32,
  in_offset: u32,
  scale: f32,
  causal: u32,
  causal_offset: i32,
}

const WG = {{WG}}u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32{{SUBGROUP_BUILTINS}}) {
  {{SUBGROUP_SETUP}}
  let row = flat_group(wid, nwg);
  if (row >= params.rows) {
    return;
  }
  var limit = params.width;
  if (params.causal != 0u) {
    let i = i32(row % params.rows_per_matrix);
    limit = u32(clamp(i + params.causal_offset + 1, 0, i32(params.width)));
  }
  let base = params.in_offset + row * params.width;
  var m = f32_from_bits(NEGATIVE_INFINITY_BITS);
  for (var j = lid; j < limit; j += WG) {
    m = max(m, x[base + j] * params.scale);
  }
  m = wg_max(m, lid);
  var s = 0.0;
  for (var j = lid; j < limit; j += WG) {
    s = s + exp(x[base + j] * params.scale - m);
  }
  s = wg_sum(s, lid);
  for (var j = lid; j < params.width; j += WG) {
    out[row * params.width + j] = select(0.0, exp(x[base + j] * params.scale - m) / s, j < limit);
  }
}
