// y = x W^T for many activation rows (prompt processing), W in any block type: a workgroup
// computes a 64-token x 64-feature tile, walking the width 32 values at a time. Each step decodes
// a 64 x 32 slice of W into shared memory once (so decoding is amortized over 64 tokens) next to
// the matching 64 x 32 slice of x, and every thread accumulates a 4 x 4 block of outputs.
#include "kernels/common.wgsl"
#include "{{DECODER}}"

struct Params {
  tokens: u32,
  width: u32,
  out_features: u32,
  x_offset: u32,
  row_first: u32,
  row_count: u32,
  row_bytes: u32,
  byte_shift: u32,
}

const WG = 256u;
const TILE = 64u;
const STEP_QUADS = 8u;
// Rows are whole quads (always so for quantized types): no per-value bounds checks.
const WHOLE_QUADS = {{WHOLE_QUADS}};

// Binding 3 is the weight (table) blocks, declared by the decoder included above.
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

var<workgroup> x_tile: array<array<vec4<f32>, STEP_QUADS>, TILE>;
var<workgroup> w_tile: array<array<vec4<f32>, STEP_QUADS>, TILE>;

// Values 4q..4q+3 of activation row t, zero past the row's end.
fn x_quad(t: u32, q: u32) -> vec4<f32> {
  let i = params.x_offset + t * params.width + 4u * q;
  if (WHOLE_QUADS) {
    return vec4<f32>(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
  }
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (4u * q + c < params.width) {
      v[c] = x[i + c];
    }
  }
  return v;
}

// Values 4q..4q+3 of weight row r, zero past the row's end.
fn w_quad(row: u32, q: u32) -> vec4<f32> {
  if (WHOLE_QUADS || 4u * q + 4u <= params.width) {
    return row_quad(row, q);
  }
  var v = vec4<f32>(0.0);
  for (var c = 0u; 4u * q + c < params.width; c++) {
    v[c] = row_value(row, 4u * q + c);
  }
  return v;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tiles_f = (params.row_count + TILE - 1u) / TILE;
  let g = flat_group(wid, nwg);
  let t0 = (g / tiles_f) * TILE;
  let f0 = (g % tiles_f) * TILE;
  if (t0 >= params.tokens) {
    return;
  }
  let tt = lid / 16u;
  let tf = lid % 16u;
  // acc[i][j]: token tt * 4 + i, feature tf * 4 + j.
  var acc: array<vec4<f32>, 4>;
  let quads = (params.width + 3u) / 4u;
  for (var q0 = 0u; q0 < quads; q0 += STEP_QUADS) {
    for (var e = lid; e < TILE * STEP_QUADS; e += WG) {
      let i = e / STEP_QUADS;
      let q = q0 + e % STEP_QUADS;
      var xv = vec4<f32>(0.0);
      if (t0 + i < params.tokens && q < quads) {
        xv = x_quad(t0 + i, q);
      }
      x_tile[i][e % STEP_QUADS] = xv;
      var wv = vec4<f32>(0.0);
      if (f0 + i < params.row_count && q < quads) {
        wv = w_quad(params.byte_shift + (f0 + i) * params.row_bytes, q);
      }
      w_tile[i][e % STEP_QUADS] = wv;
    }
    workgroupBarrier();
    for (var k = 0u; k < STEP_QUADS; k++) {
      // Columns: the quads of four features; x * w gives the four dot products at once.
      let w = mat4x4<f32>(w_tile[tf * 4u][k], w_tile[tf * 4u + 1u][k], w_tile[tf * 4u + 2u][k], w_tile[tf * 4u + 3u][k]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += x_tile[tt * 4u + i][k] * w;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let t = t0 + tt * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let f = f0 + tf * 4u + j;
      if (t < params.tokens && f < params.row_count) {
        out[t * params.out_features + params.row_first + f] = acc[i][j];
      }
    }
  }
}
