// Rotary position embedding on dense [..., tokens, heads, headDim], one thread per element.
// The angle follows the CPU reference (and ggml's rope cache) in float32: theta_i =
// freq_scale * (pos * theta_scale^i), with pos * theta_scale^i built by i successive float32
// multiplications. cos/sin are computed here, not by WGSL's builtins (whose accuracy is only
// specified on [-pi, pi] and is poor beyond), with a three-part Cody-Waite reduction by pi/2 and
// Cephes' single-precision minimax polynomials on [-pi/4, pi/4]: about one ulp for angles up to
// ~10^5, so results track the CPU's (glibc-exact) cosf/sinf of the same float32 angle to float32
// rounding.
// NORM pairs (x[2i], x[2i+1]); NEOX pairs (x[i], x[i + dims/2]); elements past dims pass through.
#include "kernels/common.wgsl"

struct Params {
  count: u32,
  tokens: u32,
  heads: u32,
  head_dim: u32,
  dims: u32,
  neox: u32,
  in_offset: u32,
  pos_offset: u32,
  theta_scale: f32,
  freq_scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> positions: array<i32>;

// pi/2 = PIO2_HI + PIO2_MID + PIO2_LO; the first two have 9 significant bits, so k * part is exact
// for |k| < 2^15 (angles up to ~51000 radians).
const PIO2_HI = 1.5703125;
const PIO2_MID = 0.00048351287841796875;
const PIO2_LO = 3.1391647326017846e-07;
const TWO_OVER_PI = 0.6366197466850281;

// (sin, cos) of theta.
fn sin_cos(theta: f32) -> vec2<f32> {
  let k = round(theta * TWO_OVER_PI);
  let r = ((theta - k * PIO2_HI) - k * PIO2_MID) - k * PIO2_LO;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  switch (i32(k) & 3) {
    case 0: {
      return vec2<f32>(s, c);
    }
    case 1: {
      return vec2<f32>(c, -s);
    }
    case 2: {
      return vec2<f32>(-s, -c);
    }
    default: {
      return vec2<f32>(-c, s);
    }
  }
}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = flat_group(wid, nwg) * {{WG}}u + lid;
  if (e >= params.count) {
    return;
  }
  let d = e % params.head_dim;
  let src = params.in_offset + e;
  if (d >= params.dims) {
    out[e] = x[src];
    return;
  }
  let half = params.dims / 2u;
  var pair: u32;
  var first: bool;
  var partner: u32;
  if (params.neox != 0u) {
    first = d < half;
    pair = select(d - half, d, first);
    partner = select(src - half, src + half, first);
  } else {
    first = (d & 1u) == 0u;
    pair = d / 2u;
    partner = select(src - 1u, src + 1u, first);
  }
  let token = (e / (params.head_dim * params.heads)) % params.tokens;
  var theta_base = f32(positions[params.pos_offset + token]);
  for (var i = 0u; i < pair; i++) {
    theta_base = theta_base * params.theta_scale;
  }
  let sc = sin_cos(params.freq_scale * theta_base);
  let x0 = select(x[partner], x[src], first);
  let x1 = select(x[src], x[partner], first);
  out[e] = select(x0 * sc.x + x1 * sc.y, x0 * sc.y - x1 * sc.x, first);
}
