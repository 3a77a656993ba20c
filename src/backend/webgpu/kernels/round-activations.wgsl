// Activation rows rounded through an activation type and written back as f32 (the float matmul
// paths' form of llama.cpp's activation quantization): KIND 0 Q8_0/Q8_1, 1 Q8_K (one thread per
// block of ACT_BLOCK values), 2 F16, 3 BF16 (one thread per value).
#include "kernels/common.wgsl"
#include "kernels/activation-rounding.wgsl"

struct Params {
  tokens: u32,
  width: u32,
  x_offset: u32,
}

const KIND = {{KIND}}u;
const ACT_BLOCK = {{ACT_BLOCK}}u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = flat_group(wid, nwg) * {{WG}}u + lid;
  let per_row = params.width / ACT_BLOCK;
  if (b >= params.tokens * per_row) {
    return;
  }
  let t = b / per_row;
  let first = t * params.width + (b % per_row) * ACT_BLOCK;
  let base = params.x_offset + first;
  if (KIND == 2u) {
    out[first] = f16_round(x[base]);
    return;
  }
  if (KIND == 3u) {
    out[first] = bf16_round(x[base]);
    return;
  }
  var amax = 0.0;
  var largest = 0.0;
  for (var i = 0u; i < ACT_BLOCK; i++) {
    let v = x[base + i];
    if (abs(v) > amax) {
      amax = abs(v);
      largest = v;
    }
  }
  var scale: Q8Scale;
  if (KIND == 0u) {
    scale = q8_0_scale(amax);
  } else {
    scale = q8_k_scale(largest);
  }
  for (var i = 0u; i < ACT_BLOCK; i++) {
    let v = x[base + i];
    var code: i32;
    if (KIND == 0u) {
      code = q8_0_code(v, scale.inverse);
    } else {
      code = q8_k_code(v, scale.inverse);
    }
    out[first + i] = f32(code) * scale.stored;
  }
}
