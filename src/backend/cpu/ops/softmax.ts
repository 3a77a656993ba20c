// Softmax over the last axis of scale * x, with an optional causal mask: element (.., i, j) is
// masked when j > i + causalOffset (i indexes the second-to-last axis).
import type { SoftmaxArgs } from '../../../tensor/ops';

export function softmax(x: Float32Array, shape: readonly number[], args: SoftmaxArgs, out: Float32Array): void {
  const n = shape[shape.length - 1];
  const rowsPerMatrix = shape.length >= 2 ? shape[shape.length - 2] : 1;
  for (let base = 0, r = 0; base < x.length; base += n, r++) {
    const i = r % rowsPerMatrix;
    const limit = args.causalOffset === null ? n : Math.min(n, i + args.causalOffset + 1);
    let max = -Infinity;
    for (let j = 0; j < limit; j++) max = Math.max(max, x[base + j] * args.scale);
    let sum = 0;
    for (let j = 0; j < limit; j++) sum += Math.exp(x[base + j] * args.scale - max);
    for (let j = 0; j < n; j++) out[base + j] = j < limit ? Math.exp(x[base + j] * args.scale - max) / sum : 0;
  }
}
