// Q5_0 / Q5_1: the fifth bits of values 4q..4q+3 (bits 4q..4q+3 of the 32-bit qh) moved to bit 4
// of each byte of a packed word.
fn fifth_bits(qh: u32, q: u32) -> u32 {
  let h = (qh >> (4u * q)) & 0xfu;
  return ((h & 1u) << 4u) | ((h & 2u) << 11u) | ((h & 4u) << 18u) | ((h & 8u) << 25u);
}
