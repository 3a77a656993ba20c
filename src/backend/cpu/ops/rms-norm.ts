// x / sqrt(mean(x^2) + eps) per row of the last axis, rounding where ggml_rms_norm rounds
// (ggml-cpu/ops.cpp ggml_compute_forward_rms_norm_f32): squares in float32 summed in float64,
// mean, mean + eps, sqrtf and 1.0f/ each rounded to float32, then y = x * scale in float32.
const fr = Math.fround;

export function rmsNorm(x: Float32Array, width: number, eps: number, out: Float32Array): void {
  for (let base = 0; base < x.length; base += width) {
    let sum = 0;
    for (let i = 0; i < width; i++) sum += fr(x[base + i] * x[base + i]);
    const scale = fr(1 / fr(Math.sqrt(fr(fr(sum / width) + fr(eps)))));
    for (let i = 0; i < width; i++) out[base + i] = x[base + i] * scale;
  }
}
