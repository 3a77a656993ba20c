// Rotary position embedding on [..., tokens, heads, headDim]. The angle of pair i at position p is
// freqScale * p * freqBase^(-2i/dims), computed as ggml's rope cache does (float32: the base angle
// multiplied by freqBase^(-2/dims) pair after pair, cosf/sinf) so results track llama.cpp closely.
// NORM pairs adjacent values (x[2i], x[2i+1]); NEOX pairs halves (x[i], x[i + dims/2]).
import type { RopeArgs } from '../../../tensor/ops';

export function rope(x: Float32Array, shape: readonly number[], positions: Int32Array, args: RopeArgs, out: Float32Array): void {
  const rank = shape.length;
  const headDim = shape[rank - 1];
  const heads = shape[rank - 2];
  const tokens = shape[rank - 3];
  const fr = Math.fround;
  const thetaScale = fr(Math.pow(args.freqBase, fr(-2 / args.dims)));
  const half = args.dims / 2;
  const cos = new Float32Array(half);
  const sin = new Float32Array(half);
  out.set(x);
  for (let base = 0, t = 0; base < x.length; base += heads * headDim, t = (t + 1) % tokens) {
    let thetaBase = positions[t];
    for (let i = 0; i < half; i++) {
      const theta = fr(args.freqScale * thetaBase);
      cos[i] = Math.cos(theta);
      sin[i] = Math.sin(theta);
      thetaBase = fr(thetaBase * thetaScale);
    }
    for (let h = 0; h < heads; h++) {
      const o = base + h * headDim;
      for (let i = 0; i < half; i++) {
        const a = args.mode === 'norm' ? o + 2 * i : o + i;
        const b = args.mode === 'norm' ? a + 1 : a + half;
        const x0 = x[a];
        const x1 = x[b];
        out[a] = x0 * cos[i] - x1 * sin[i];
        out[b] = x0 * sin[i] + x1 * cos[i];
      }
    }
  }
}
