// IQ4_NL / IQ4_XS: a 4-bit code selects one of 16 int8 levels (ggml-common.h kvalues_iq4nl),
// packed four to a word: level n is byte n % 4 of LEVEL_WORDS[n / 4].
const LEVEL_WORDS = array<u32, 4>(0xbfad9881u, 0xf6eaddcfu, 0x26190d01u, 0x71594535u);

// Four nibbles (one per byte of `nibbles`) replaced by their levels.
fn levels(nibbles: u32) -> u32 {
  var out = 0u;
  for (var i = 0u; i < 4u; i++) {
    let n = (nibbles >> (8u * i)) & 0xfu;
    out |= ((LEVEL_WORDS[n >> 2u] >> (8u * (n & 3u))) & 0xffu) << (8u * i);
  }
  return out;
}
