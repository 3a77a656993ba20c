// Shared by every kernel: the flat index of a workgroup launched in 2-D (a dispatch may need more
// workgroups than one dimension allows; see batch.ts).
fn flat_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}

// A const-expression may not be infinite or NaN in WGSL; a function's result may.
const POSITIVE_INFINITY_BITS = 0x7f800000u;
const NEGATIVE_INFINITY_BITS = 0xff800000u;
const NAN_BITS = 0x7fc00000u;

fn f32_from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}
