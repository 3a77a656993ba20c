// The steps of ggml's activation quantizers (src/quant: Q8_0/Q8_1 in legacy.ts, Q8_K in
// kquants.ts) and of f32 -> bf16 rounding, in float32 with exact integer bit manipulation.
#include "kernels/f16-round.wgsl"

// f32 -> bf16 -> f32, rounding to nearest even (NaN kept), as ggml_compute_fp32_to_bf16.
fn bf16_round(x: f32) -> f32 {
  let w = bitcast<u32>(x);
  if ((w & 0x7fffffffu) > 0x7f800000u) {
    return x;
  }
  return bitcast<f32>((w + 0x7fffu + ((w >> 16u) & 1u)) & 0xffff0000u);
}

// C's roundf: to nearest, halves away from zero (p - trunc(p) is exact).
fn round_half_away(p: f32) -> f32 {
  let t = trunc(p);
  return select(t, t + sign(p), abs(p - t) >= 0.5);
}

// Q8_0 / Q8_1: d = max|x| / 127, codes roundf(x / d) (via 1/d), d stored as f16.
struct Q8Scale {
  inverse: f32,
  stored: f32,
}

fn q8_0_scale(amax: f32) -> Q8Scale {
  let d = amax / 127.0;
  return Q8Scale(select(0.0, 1.0 / d, d != 0.0), f16_round(d));
}

fn q8_0_code(x: f32, inverse: f32) -> i32 {
  return i32(round_half_away(x * inverse));
}

// Q8_K: m = the value of largest magnitude (sign kept); iscale = -127 / m; codes
// min(127, nearest_int(iscale * x)) (ties to even); d = 1 / iscale stored as f32.
fn q8_k_scale(m: f32) -> Q8Scale {
  if (m == 0.0) {
    return Q8Scale(0.0, 0.0);
  }
  let iscale = -127.0 / m;
  return Q8Scale(iscale, 1.0 / iscale);
}

fn q8_k_code(x: f32, iscale: f32) -> i32 {
  return min(127, i32(round(iscale * x)));
}
