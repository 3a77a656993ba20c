// sum / max / min / argmax along one axis (float64 accumulation).
import type { ReduceOp } from '../../../tensor/ops';

export function reduce(op: ReduceOp, x: Float32Array | Int32Array, shape: readonly number[], axis: number, out: Float32Array | Int32Array): void {
  const len = shape[axis];
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  const outer = x.length / (len * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let acc = op === 'sum' ? 0 : x[base];
      let best = 0;
      for (let k = op === 'sum' ? 0 : 1; k < len; k++) {
        const v = x[base + k * inner];
        if (op === 'sum') acc += v;
        else if (op === 'max' || op === 'argmax' ? v > acc : v < acc) {
          acc = v;
          best = k;
        }
      }
      out[o * inner + i] = op === 'argmax' ? best : acc;
    }
  }
}
