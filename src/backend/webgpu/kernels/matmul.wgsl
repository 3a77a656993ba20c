// Batched f32 matrix product C[z] = A[z] B[z] for A [.., m, k] and B [.., k, n] read through
// strides (transposed operands and broadcast batch dimensions cost no copy). Classic shared-memory
// tiling: a workgroup computes a TILE_M x 64 block of C, walking k in steps of 16; each thread
// accumulates a 4 x 4 sub-block in registers, so every value loaded into shared memory is used
// 4 times per thread and TILE_M (or 64) times per workgroup.
#include "kernels/common.wgsl"

struct Params {
  m: u32,
  n: u32,
  k: u32,
  batch: u32,
  // Up to four batch dimensions, outermost first (padded with 1), and each operand's strides.
  batch_shape: vec4<u32>,
  a_batch: vec4<u32>,
  b_batch: vec4<u32>,
  a_offset: u32,
  a_row: u32,
  a_col: u32,
  b_offset: u32,
  b_row: u32,
  b_col: u32,
}

const WG = {{WG}}u;
const THREADS_N = 16u;
const THREADS_M = WG / THREADS_N;
const TILE_N = THREADS_N * 4u;
const TILE_M = THREADS_M * 4u;
const TILE_K = 16u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

var<workgroup> a_tile: array<array<f32, TILE_M>, TILE_K>;
var<workgroup> b_tile: array<array<f32, TILE_N>, TILE_K>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tiles_n = (params.n + TILE_N - 1u) / TILE_N;
  let tiles_m = (params.m + TILE_M - 1u) / TILE_M;
  let g = flat_group(wid, nwg);
  let z = g / (tiles_m * tiles_n);
  if (z >= params.batch) {
    return;
  }
  let m0 = ((g / tiles_n) % tiles_m) * TILE_M;
  let n0 = (g % tiles_n) * TILE_N;

  var rest = z;
  var a_base = params.a_offset;
  var b_base = params.b_offset;
  for (var d = 3; d >= 0; d--) {
    let idx = rest % params.batch_shape[d];
    rest = rest / params.batch_shape[d];
    a_base += idx * params.a_batch[d];
    b_base += idx * params.b_batch[d];
  }

  let tm = lid / THREADS_N;
  let tn = lid % THREADS_N;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < params.k; k0 += TILE_K) {
    for (var e = lid; e < TILE_M * TILE_K; e += WG) {
      let row = e / TILE_K;
      let col = e % TILE_K;
      var v = 0.0;
      if (m0 + row < params.m && k0 + col < params.k) {
        v = a[a_base + (m0 + row) * params.a_row + (k0 + col) * params.a_col];
      }
      a_tile[col][row] = v;
    }
    for (var e = lid; e < TILE_K * TILE_N; e += WG) {
      let row = e / TILE_N;
      let col = e % TILE_N;
      var v = 0.0;
      if (k0 + row < params.k && n0 + col < params.n) {
        v = b[b_base + (k0 + row) * params.b_row + (n0 + col) * params.b_col];
      }
      b_tile[row][col] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        av[i] = a_tile[kk][tm * 4u + i];
        bv[i] = b_tile[kk][tn * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] = acc[i][j] + av[i] * bv[j];
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = m0 + tm * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let col = n0 + tn * 4u + j;
      if (row < params.m && col < params.n) {
        c[(z * params.m + row) * params.n + col] = acc[i][j];
      }
    }
  }
}
