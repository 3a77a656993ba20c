// Activation rows quantized to Q8_0 / Q8_1 (KIND 0) or Q8_K (KIND 1) for the integer matmul:
// one thread per activation block writes its codes, four int8 to a word, and its scale (the value
// ggml dequantizes with: f16-rounded for Q8_0/Q8_1, f32 for Q8_K).
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
@group(0) @binding(1) var<storage, read_write> codes: array<u32>;
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = flat_group(wid, nwg) * {{WG}}u + lid;
  let per_row = params.width / ACT_BLOCK;
  if (b >= params.tokens * per_row) {
    return;
  }
  let t = b / per_row;
  let base = params.x_offset + t * params.width + (b % per_row) * ACT_BLOCK;
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
  let first_word = (t * params.width + (b % per_row) * ACT_BLOCK) / 4u;
  for (var j = 0u; j < ACT_BLOCK / 4u; j++) {
    var word = 0u;
    for (var c = 0u; c < 4u; c++) {
      let v = x[base + 4u * j + c];
      var code: i32;
      if (KIND == 0u) {
        code = q8_0_code(v, scale.inverse);
      } else {
        code = q8_k_code(v, scale.inverse);
      }
      word |= (u32(code) & 0xffu) << (8u * c);
    }
    codes[first_word + j] = word;
  }
  scales[b] = scale.stored;
}
