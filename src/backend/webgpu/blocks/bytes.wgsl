// Little-endian reads at byte addresses of a tensor's raw GGUF blocks, bound as `blocks:
// array<u32>`. Blocks are not 4-byte aligned in general (Q4_0's are 18 bytes, Q6_K's 210), but
// every field a decoder reads 2 or 4 bytes of starts at an even address.
@group(0) @binding({{BLOCKS_BINDING}}) var<storage, read> blocks: array<u32>;

fn byte_at(b: u32) -> u32 {
  return (blocks[b >> 2u] >> ((b & 3u) << 3u)) & 0xffu;
}

// b even.
fn u16_at(b: u32) -> u32 {
  return (blocks[b >> 2u] >> ((b & 2u) << 3u)) & 0xffffu;
}

// b even: four bytes, possibly spanning two words.
fn u32_at(b: u32) -> u32 {
  let i = b >> 2u;
  let low = blocks[i];
  if ((b & 2u) == 0u) {
    return low;
  }
  return (low >> 16u) | (blocks[i + 1u] << 16u);
}

fn f16_at(b: u32) -> f32 {
  return unpack2x16float(u16_at(b)).x;
}

fn f32_at(b: u32) -> f32 {
  return bitcast<f32>(u32_at(b));
}

// Bytes 0..3 of a word as signed int8 (sign-extended), in element order.
fn unpack_codes(c: u32) -> vec4<i32> {
  {{UNPACK_CODES}}
}

// Four signed int8 values per word, byte-wise minus `k` (0 <= k <= 128, every byte < 128 + k):
// each byte gets its top bit set so the subtraction cannot borrow from its neighbour, and the
// flip restores it. Turns unsigned codes 0..2^n-1 into signed ones (e.g. Q4_0's q - 8).
fn sub_bytes(c: u32, k: u32) -> u32 {
  return ((c | 0x80808080u) - k * 0x01010101u) ^ 0x80808080u;
}
