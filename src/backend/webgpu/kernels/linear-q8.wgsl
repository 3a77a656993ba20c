// y = x W^T with x quantized to Q8 (Q8_0, Q8_1 or Q8_K, as llama.cpp's CPU backend does) and W in
// an integer-code block type, for a few activation rows: integer dot products of packed int8
// codes (dot4I8Packed where the device has it), scaled once per weight group. For group g with
// weight scale s and offset m, and activation codes c_x with scale d_x:
//   sum_i w_i x_i = d_x * (s * dot(c_w, c_x) + m * sum(c_x)).
// One workgroup per output feature; each thread takes whole weight groups, so a group's scale is
// decoded once, and its codes once for all tokens.
#include "kernels/common.wgsl"
#include "{{DECODER}}"
{{REDUCTIONS}}

struct Params {
  width: u32,
  out_features: u32,
  row_first: u32,
  row_count: u32,
  row_bytes: u32,
  byte_shift: u32,
}

const TOKENS = {{TOKENS}}u;
const WG = {{WG}}u;
const ACT_BLOCK = {{ACT_BLOCK}}u;
const GROUP_QUADS = GROUP_VALUES / 4u;

// Binding 3 is the weight (table) blocks, declared by the decoder included above.
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x_codes: array<u32>;
@group(0) @binding(4) var<storage, read> x_scales: array<f32>;

fn dot_codes(a: u32, b: u32) -> i32 {
  {{DOT_CODES}}
}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32{{SUBGROUP_BUILTINS}}) {
  {{SUBGROUP_SETUP}}
  let r = flat_group(wid, nwg);
  if (r >= params.row_count) {
    return;
  }
  let row = params.byte_shift + r * params.row_bytes;
  let quads = params.width / 4u;
  let groups = params.width / GROUP_VALUES;
  let act_blocks = params.width / ACT_BLOCK;
  var acc: array<f32, TOKENS>;
  for (var g = lid; g < groups; g += WG) {
    let affine = row_group_affine(row, g);
    var w: array<u32, GROUP_QUADS>;
    for (var k = 0u; k < GROUP_QUADS; k++) {
      w[k] = row_quad_codes(row, g * GROUP_QUADS + k);
    }
    let act_block = (g * GROUP_VALUES) / ACT_BLOCK;
    for (var t = 0u; t < TOKENS; t++) {
      var d = 0;
      var s = 0;
      for (var k = 0u; k < GROUP_QUADS; k++) {
        let c = x_codes[t * quads + g * GROUP_QUADS + k];
        d += dot_codes(w[k], c);
        s += dot_codes(0x01010101u, c);
      }
      acc[t] += x_scales[t * act_blocks + act_block] * (affine.x * f32(d) + affine.y * f32(s));
    }
  }
  let feature = params.row_first + r;
  for (var t = 0u; t < TOKENS; t++) {
    let total = wg_sum(acc[t], lid);
    if (lid == 0u) {
      out[t * params.out_features + feature] = total;
    }
  }
}
