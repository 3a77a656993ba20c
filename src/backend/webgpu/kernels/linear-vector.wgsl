// y = x W^T for a few activation rows (decoding: 1..8 tokens), W in any block type, decoded in
// registers and never stored: one workgroup per output feature; its threads walk the weight row
// quad by quad, so adjacent threads read adjacent bytes (measured 2x faster on llvmpipe than one
// thread per scale group, and the coalesced pattern on GPUs); each decoded quad is used for every
// token, and a workgroup reduction per token finishes the dot products. Memory-bound by design:
// the weight bytes are read exactly once.
#include "kernels/common.wgsl"
#include "{{DECODER}}"
{{REDUCTIONS}}

struct Params {
  width: u32,
  out_features: u32,
  out_offset: u32,
  x_offset: u32,
  row_first: u32,
  row_count: u32,
  row_bytes: u32,
  byte_shift: u32,
}

const TOKENS = {{TOKENS}}u;
const WG = {{WG}}u;

// Binding 3 is the weight (table) blocks, declared by the decoder included above.
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

fn x_quad(t: u32, q: u32) -> vec4<f32> {
  let i = params.x_offset + t * params.width + 4u * q;
  return vec4<f32>(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32{{SUBGROUP_BUILTINS}}) {
  {{SUBGROUP_SETUP}}
  let r = flat_group(wid, nwg);
  if (r >= params.row_count) {
    return;
  }
  let row = params.byte_shift + r * params.row_bytes;
  var acc: array<f32, TOKENS>;
  let quads = params.width / 4u;
  for (var q = lid; q < quads; q += WG) {
    let w = row_quad(row, q);
    for (var t = 0u; t < TOKENS; t++) {
      acc[t] += dot(w, x_quad(t, q));
    }
  }
  // Float types may end in a partial quad.
  for (var i = 4u * quads + lid; i < params.width; i += WG) {
    let w = row_value(row, i);
    for (var t = 0u; t < TOKENS; t++) {
      acc[t] += w * x[params.x_offset + t * params.width + i];
    }
  }
  let feature = params.row_first + r;
  for (var t = 0u; t < TOKENS; t++) {
    let total = wg_sum(acc[t], lid);
    if (lid == 0u) {
      out[params.out_offset + t * params.out_features + feature] = total;
    }
  }
}
