// Batched f32 matrix product [..., m, k] x [..., k, n] with inputs already broadcast to the same
// batch shape and made contiguous. i-k-j order: rows of b stream through cache.
export function matmul(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, out: Float32Array): void {
  const row = new Float64Array(n);
  for (let z = 0; z < batch; z++) {
    const A = z * m * k;
    const B = z * k * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a[A + i * k + p];
        if (av === 0) continue;
        const bRow = B + p * n;
        for (let j = 0; j < n; j++) row[j] += av * b[bRow + j];
      }
      out.set(row, z * m * n + i * n);
    }
  }
}
