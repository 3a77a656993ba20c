// f32 -> f16 -> f32, rounding to nearest even as ggml's GGML_FP32_TO_FP16 (and F16C) do, by
// integer bit manipulation: WGSL lets its own f32 -> f16 conversion round to either neighbour.
fn f16_round(x: f32) -> f32 {
  let w = bitcast<u32>(x);
  let sign = w & 0x80000000u;
  let a = w & 0x7fffffffu;
  if (a > 0x7f800000u) {
    return x;
  }
  if (a >= 0x477ff000u) {
    return bitcast<f32>(sign | 0x7f800000u);
  }
  if (a < 0x38800000u) {
    // f16 subnormal: a multiple of 2^-24; scaling by 2^24 is exact and round() ties to even.
    let m = round(bitcast<f32>(a) * 16777216.0);
    return bitcast<f32>(sign | bitcast<u32>(m * 5.9604644775390625e-8));
  }
  let rest = a & 0x1fffu;
  var h = a & 0xffffe000u;
  if (rest > 0x1000u || (rest == 0x1000u && (a & 0x2000u) != 0u)) {
    h += 0x2000u;
  }
  return bitcast<f32>(sign | h);
}
