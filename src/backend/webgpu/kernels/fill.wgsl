// Fill 32-bit words with one value: the poison written into new outputs in debug/test mode, so an
// element a kernel forgets to write reads back as NaN instead of a plausible stale number.
#include "kernels/common.wgsl"

struct Params {
  count: u32,
  value: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> words: array<u32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * {{WG}}u + lid;
  if (i < params.count) {
    words[i] = params.value;
  }
}
