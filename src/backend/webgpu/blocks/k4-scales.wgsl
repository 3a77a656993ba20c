// Q4_K / Q5_K: sub-block j's 6-bit scale and min from the 12 bytes at `s` (ggml's
// get_scale_min_k4; packing described in src/quant/kquant-search.ts).
fn scale_min_k4(s: u32, j: u32) -> vec2<f32> {
  if (j < 4u) {
    return vec2<f32>(f32(byte_at(s + j) & 63u), f32(byte_at(s + j + 4u) & 63u));
  }
  let scale = (byte_at(s + j + 4u) & 0xfu) | ((byte_at(s + j - 4u) >> 6u) << 4u);
  let min = (byte_at(s + j + 4u) >> 4u) | ((byte_at(s + j) >> 6u) << 4u);
  return vec2<f32>(f32(scale), f32(min));
}
