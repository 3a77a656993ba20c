// Softmax over the last axis of scale * x, with an optional causal mask: element (.., i, j) is
// masked when j > i + causalOffset (i indexes the second-to-last axis).
//
// With `ggml` (llama.cpp emulation) it rounds as ggml_compute_forward_soft_max_f32
// (ggml-cpu/ops.cpp) with ggml_vec_soft_max_f32 (vec.cpp): w = x * scale in float32 (masked
// entries -inf), m = max w, e = ggml_v_expf(w - m) a vector register (GGML_LANES values) at a
// time, each register's lanes summed in float32 and added to a float64 sum, then every e
// multiplied by (float)(1.0 / sum). Rows are llama.cpp's KV length, a multiple of the register
// width; the masked tail contributes zeros there, so registers start at column 0 here as well.
import type { SoftmaxArgs } from '../../../tensor/ops';
import { GGML_LANES, foldSum, vExpf } from './ggml-float';

// module-level copies for the hot loop (under tsx an imported binding is a getter call per use)
const [fold, expf] = [foldSum, vExpf];

export function softmax(x: Float32Array, shape: readonly number[], args: SoftmaxArgs, out: Float32Array): void {
  const n = shape[shape.length - 1];
  const rowsPerMatrix = shape.length >= 2 ? shape[shape.length - 2] : 1;
  const lanes = new Float64Array(GGML_LANES);
  for (let base = 0, r = 0; base < x.length; base += n, r++) {
    const i = r % rowsPerMatrix;
    const limit = args.causalOffset === null ? n : Math.min(n, i + args.causalOffset + 1);
    if (args.ggml) {
      softmaxRowGgml(x, base, n, limit, Math.fround(args.scale), out, lanes);
      continue;
    }
    let max = -Infinity;
    for (let j = 0; j < limit; j++) max = Math.max(max, x[base + j] * args.scale);
    let sum = 0;
    for (let j = 0; j < limit; j++) sum += Math.exp(x[base + j] * args.scale - max);
    for (let j = 0; j < n; j++) out[base + j] = j < limit ? Math.exp(x[base + j] * args.scale - max) / sum : 0;
  }
}

function softmaxRowGgml(x: Float32Array, base: number, n: number, limit: number, scale: number, out: Float32Array, lanes: Float64Array): void {
  const fr = Math.fround;
  const L = lanes.length;
  let max = -Infinity;
  for (let j = 0; j < limit; j++) max = Math.max(max, fr(x[base + j] * scale));
  let sum = 0;
  for (let j0 = 0; j0 < limit; j0 += L) {
    lanes.fill(0);
    for (let j = j0; j < Math.min(j0 + L, limit); j++) {
      const e = expf(fr(fr(x[base + j] * scale) - max));
      out[base + j] = e;
      lanes[j - j0] = e;
    }
    sum += fold(lanes, 0, L);
  }
  const inv = fr(1 / sum);
  for (let j = 0; j < n; j++) out[base + j] = j < limit ? fr(out[base + j] * inv) : 0;
}
