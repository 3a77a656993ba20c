// x / sqrt(mean(x^2) + eps) per row of the last axis, as ggml_rms_norm (sum in float64).
export function rmsNorm(x: Float32Array, width: number, eps: number, out: Float32Array): void {
  for (let base = 0; base < x.length; base += width) {
    let sum = 0;
    for (let i = 0; i < width; i++) sum += x[base + i] * x[base + i];
    const scale = Math.fround(1 / Math.sqrt(Math.fround(sum / width) + eps));
    for (let i = 0; i < width; i++) out[base + i] = x[base + i] * scale;
  }
}
