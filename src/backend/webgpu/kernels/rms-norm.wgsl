// x / sqrt(mean(x^2) + eps) per row, one workgroup per row (ggml_rms_norm without its weight).
#include "kernels/common.wgsl"
{{REDUCTIONS}}

struct Params {
  rows: u32,
  width: u32,
  in_offset: u32,
  eps: f32,
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
  let base = params.in_offset + row * params.width;
  var squares = 0.0;
  for (var i = lid; i < params.width; i += WG) {
    let v = x[base + i];
    squares = squares + v * v;
  }
  let sum = wg_sum(squares, lid);
  let scale = 1.0 / sqrt(sum / f32(params.width) + params.eps);
  for (var i = lid; i < params.width; i += WG) {
    out[row * params.width + i] = x[base + i] * scale;
  }
}
