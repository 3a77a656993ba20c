// The float mode's matrix product, as matmul in ops/matmul.ts computes it (the reference's
// i-k-j loop): out[z, i, j] = float32 of the float64 sum over p = 0 .. k-1, in that order, of
// a[z, i, p] * b[z, p, j] (each product exact in float64), skipping p where a[z, i, p] == 0.
// Operands addressed as in matmul-ggml.c: A's rows contiguous, B through its strides, batches
// starting at a_batch[z] / b_batch[z]. Threads split the batch x rows; `scratch` holds one row of
// float64 sums per thread.
#include "common.h"

EXPORT void matmul_f64(const float* a, const int32_t* a_batch, int a_row_stride, const float* b, const int32_t* b_batch, int b_k_stride,
                       int b_n_stride, int batch, int m, int k, int n, float* out, double* scratch, int ith, int nth) {
  int first, end;
  thread_rows(batch * m, 1, ith, nth, &first, &end);
  double* row = scratch + (size_t)ith * n;
  for (int zi = first; zi < end; zi++) {
    int z = zi / m, i = zi % m;
    const float* arow = a + a_batch[z] + (size_t)i * a_row_stride;
    const float* bz = b + b_batch[z];
    float* y = out + (size_t)zi * n;
    if (b_n_stride == 1) {
      // B's rows contiguous (P·V): the reference's loop as it stands, two columns per vector
      int n2 = n & ~1;
      for (int j = 0; j < n; j++) row[j] = 0;
      for (int p = 0; p < k; p++) {
        float av = arow[p];
        if (av == 0) continue;
        const float* brow = bz + (size_t)p * b_k_stride;
        v128_t a2 = wasm_f64x2_splat(av);
        int j = 0;
        for (; j < n2; j += 2) {
          v128_t b2 = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(brow + j));
          wasm_v128_store(row + j, wasm_f64x2_add(wasm_v128_load(row + j), wasm_f64x2_mul(a2, b2)));
        }
        for (; j < n; j++) row[j] += (double)av * brow[j];
      }
      for (int j = 0; j < n; j++) y[j] = (float)row[j];
    } else {
      // B's columns contiguous or strided (q·Kᵀ): each output's sum over p, the same adds in the same order
      for (int j = 0; j < n; j++) {
        const float* bcol = bz + (size_t)j * b_n_stride;
        double s = 0;
        for (int p = 0; p < k; p++) {
          float av = arow[p];
          if (av != 0) s += (double)av * bcol[(size_t)p * b_k_stride];
        }
        y[j] = (float)s;
      }
    }
  }
}
