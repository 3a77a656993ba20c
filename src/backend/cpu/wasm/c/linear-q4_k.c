// linear_q4_k_q8_k: Q4_K weights x Q8_K activations, one output at a time (q4_k.h).
#include "q4_k.h"

EXPORT void linear_q4_k_q8_k(const int16_t* aq, const q8k_scales* as, int rows, int width, const uint8_t* weight, int out_features,
                             float* out, int ith, int nth) {
  int nb = width / QK_K, first, end;
  int gemm_rows = rows > 3 ? rows - rows % 4 : 0;
  size_t row_bytes = (size_t)nb * Q4_K_BYTES;
  thread_rows(out_features, 1, ith, nth, &first, &end);
  for (int o = first; o < end; o++) {
    for (int r = 0; r < rows; r++) out[(size_t)r * out_features + o] = q4_k_row(weight + o * row_bytes, nb, aq + (size_t)r * width, as + (size_t)r * nb, r < gemm_rows);
  }
}
