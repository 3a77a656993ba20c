// Seeded random numbers for synthetic weights: xoshiro128** (Blackman & Vigna) for uniform 32-bit
// words, and bell-shaped samples made from them. The 128-bit state, seeded through splitmix32 from
// a seed and a stream number, gives every tensor its own stream: streams do not overlap in practice
// (a 32-bit generator such as mulberry32 would repeat values across a billion-weight model), and a
// tensor's values do not depend on which tensors were drawn before it.

export class WeightSampler {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number, stream: number) {
    let x = (Math.imul(seed >>> 0, 0x9e3779b9) ^ Math.imul(stream >>> 0, 0x85ebca6b) ^ 0x5bd1e995) >>> 0;
    const splitmix32 = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32() || 1; // the all-zero state is the one xoshiro cannot leave
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const rotated = Math.imul(s1, 5);
    const result = Math.imul((rotated << 7) | (rotated >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /**
   * Fill `out` with approximately normal(mean, std) samples: each is the sum of four uniform
   * 16-bit numbers (Irwin–Hall), scaled to the exact mean and variance. The bell is close to a
   * normal's but its tails stop at ±3.46 std, which random weights do not miss; it is four times
   * faster than Box–Muller, whose logarithm and sine dominated the synthesis of a large model.
   */
  fillApproxNormal(out: Float32Array, mean: number, std: number): void {
    // Four uniforms on 0..65535 have mean 2 * 65535 and variance 4 * (65536^2 - 1) / 12.
    const center = 2 * 65535;
    const scale = std / Math.sqrt((4 * (65536 * 65536 - 1)) / 12);
    for (let i = 0; i < out.length; i++) {
      const a = this.nextUint32();
      const b = this.nextUint32();
      out[i] = mean + ((a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16) - center) * scale;
    }
  }
}
