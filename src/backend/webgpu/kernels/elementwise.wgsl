// A fused elementwise kernel: one output element per thread, computed from loads through affine
// views (shape, strides and offsets are parameters, so one pipeline serves every size and layout of
// the same expression). elementwise.ts generates the input bindings, the index arithmetic and the
// expression; the parameter words are: element count, shape, then per load its offset and strides,
// then the bit patterns of the constants.
#include "kernels/common.wgsl"
#include "kernels/elementwise-math.wgsl"

struct Params {
  words: array<vec4<u32>, {{PARAM_VEC4S}}>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<{{OUT_TYPE}}>;
{{INPUT_BINDINGS}}

fn param(i: u32) -> u32 {
  return params.words[i / 4u][i % 4u];
}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * {{WG}}u + lid;
  if (i >= param(0u)) {
    return;
  }
{{BODY}}
}
