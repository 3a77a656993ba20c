// The fused elementwise kernels' commonest forms on the fast path: a + b, a - b and a * b of float32
// rows, each operand either rows of its own or one row broadcast to every row (the RMSNorm weight).
// Float32 arithmetic, exactly as the JavaScript kernels round their float64 result of two float32
// operands (a sum or product of two floats is exact in float64, or too far from a tie to round
// differently: the same bits).
#include "common.h"

enum { ADD = 0, SUB = 1, MUL = 2 };

/** out[r][c] = a[r * a_row_stride + c] op b[r * b_row_stride + c]; a row stride of 0 broadcasts a row. */
EXPORT void binary_f32(int op, const float* a, int a_row_stride, const float* b, int b_row_stride, int rows, int cols, float* out, int ith, int nth) {
  int first, end;
  thread_rows(rows, 1, ith, nth, &first, &end);
  for (int r = first; r < end; r++) {
    const float* x = a + (size_t)r * a_row_stride;
    const float* y = b + (size_t)r * b_row_stride;
    float* z = out + (size_t)r * cols;
    // One loop per op: each vectorizes on its own.
    if (op == ADD) for (int c = 0; c < cols; c++) z[c] = x[c] + y[c];
    else if (op == SUB) for (int c = 0; c < cols; c++) z[c] = x[c] - y[c];
    else for (int c = 0; c < cols; c++) z[c] = x[c] * y[c];
  }
}
