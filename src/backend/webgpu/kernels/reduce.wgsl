// sum / max / min / argmax along one axis of dense [outer, len, inner] elements.
// ROWS mode (inner == 1, long rows): one workgroup per row, threads stride along it, then a
// workgroup reduction. Otherwise one thread per output element walks its column (adjacent threads
// read adjacent elements). argmax keeps the first index of the largest value, as the CPU does.
#include "kernels/common.wgsl"
{{REDUCTIONS}}

struct Params {
  outer: u32,
  len: u32,
  inner: u32,
  in_offset: u32,
}

const OP_SUM = 0u;
const OP_MAX = 1u;
const OP_MIN = 2u;
const OP_ARGMAX = 3u;
const OP = {{OP}}u;
const ROWS = {{ROWS}};
const WG = {{WG}}u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<{{OUT_TYPE}}>;
@group(0) @binding(2) var<storage, read> x: array<{{IN_TYPE}}>;

struct Partial {
  value: f32,
  index: u32,
}

fn initial() -> f32 {
  if (OP == OP_SUM) {
    return 0.0;
  }
  if (OP == OP_MIN) {
    return f32_from_bits(POSITIVE_INFINITY_BITS);
  }
  return f32_from_bits(NEGATIVE_INFINITY_BITS);
}

fn combine(p: Partial, v: f32, k: u32) -> Partial {
  if (OP == OP_SUM) {
    return Partial(p.value + v, 0u);
  }
  let better = select(v > p.value, v < p.value, OP == OP_MIN);
  if (better) {
    return Partial(v, k);
  }
  return p;
}

fn result(p: Partial) -> {{OUT_TYPE}} {
  if (OP == OP_ARGMAX) {
    return {{OUT_TYPE}}(p.index);
  }
  return {{OUT_TYPE}}(p.value);
}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32{{SUBGROUP_BUILTINS}}) {
  {{SUBGROUP_SETUP}}
  if (ROWS) {
    let row = flat_group(wid, nwg);
    if (row >= params.outer) {
      return;
    }
    let base = params.in_offset + row * params.len;
    var p = Partial(initial(), 0xffffffffu);
    for (var k = lid; k < params.len; k += WG) {
      p = combine(p, f32(x[base + k]), k);
    }
    var total: f32;
    if (OP == OP_SUM) {
      total = wg_sum(p.value, lid);
    } else if (OP == OP_MIN) {
      total = wg_min(p.value, lid);
    } else {
      total = wg_max(p.value, lid);
    }
    // argmax: the smallest index holding the maximum (indices are exact in f32 below 2^24).
    let first = wg_min(select(16777216.0, f32(p.index), p.value == total), lid);
    if (lid == 0u) {
      out[row] = result(Partial(total, u32(first)));
    }
  } else {
    let t = flat_group(wid, nwg) * WG + lid;
    if (t >= params.outer * params.inner) {
      return;
    }
    let o = t / params.inner;
    let i = t % params.inner;
    let base = params.in_offset + o * params.len * params.inner + i;
    var p = Partial(f32(x[base]), 0u);
    if (OP == OP_SUM) {
      p.value = 0.0;
      for (var k = 0u; k < params.len; k++) {
        p.value = p.value + f32(x[base + k * params.inner]);
      }
    } else {
      for (var k = 1u; k < params.len; k++) {
        p = combine(p, f32(x[base + k * params.inner]), k);
      }
    }
    out[t] = result(p);
  }
}
