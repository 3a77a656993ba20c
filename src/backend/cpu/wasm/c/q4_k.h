// Q4_K weights x Q8_K activations, rounding as ggml's repacked q4_K_8x8 kernels
// (ggml-cpu/arch/x86/repack.cpp ggml_gemm_q4_K_8x8_q8_K for activation rows in groups of four,
// ggml_gemv_q4_K_8x8_q8_K for the rest), as linearQ4_K in ops/ggml-dot.ts. ggml repacks only when
// out_features % 8 == 0, and so this kernel runs only then.
//
// Per 256-value super-block, with dot_j = q4 . q8 over sub-block j (32 values) and sum_j the sum of
// the q8 codes there, exact integers isum = sum scale_j * dot_j and imin = sum min_j * sum_j, each
// rounded to float32, are fused-added times f32(d_w * d_x) into acc and times f32(dmin_w * d_x) into
// acc_min: gemv once per super-block, gemm once per pair of sub-blocks (j = 2p, 2p + 1). The
// result is acc - acc_min.
//
// Q4_K block (ggml-common.h block_q4_K, 144 bytes):
//    0  f16 d          scale of the sub-block scales
//    2  f16 dmin       scale of the sub-block mins
//    4  scales[12]     eight 6-bit scales and eight 6-bit mins (scales_mins_k4)
//   16  qs[128]        4-bit codes: byte 32c + l holds value 64c + l (low nibble), 64c + 32 + l (high)
//   value 32j + l = d * scale_j * q - dmin * min_j
#pragma once
#include "kquants.h"

#define Q4_K_BYTES 144
