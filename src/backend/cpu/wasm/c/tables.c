// Lookup tables, filled once by init_tables before any kernel runs.
#include "common.h"

float F16_TO_F32[65536];

static float f16_to_f32(uint32_t h) {
  uint32_t sign = (h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 31) return f32_from_bits(sign | 0x7f800000 | (mant << 13));
  // Normal and subnormal alike: place the 15 bits as float32 bits and scale by 2^112 (exact).
  return f32_from_bits(sign | f32_bits(f32_from_bits(((exp << 10) | mant) << 13) * 5.192296858534828e33f));
}

EXPORT void init_tables(void) {
  for (uint32_t h = 0; h < 65536; h++) F16_TO_F32[h] = f16_to_f32(h);
}
