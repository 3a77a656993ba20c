// Rotary position embedding on [..., tokens, heads, headDim]. The angle of pair i at position p is
// freqScale * p * freqBase^(-2i/dims), computed as ggml's rope cache does (float32: the base angle
// multiplied by freqBase^(-2/dims) pair after pair, then glibc's cosf/sinf — see glibc-sincosf.ts)
// so results track llama.cpp bit for bit.
// The rotation rounds as ggml's x86 builds compile rotate_pairs (ggml-cpu/ops.cpp): with FMA
// contraction, x0*cos - x1*sin is fmaf(x0, cos, -(x1*sin)) and x0*sin + x1*cos is
// fmaf(x0, sin, x1*cos) (checked bit for bit against llama.cpp's Qcur/Kcur).
// NORM pairs adjacent values (x[2i], x[2i+1]); NEOX pairs halves (x[i], x[i + dims/2]).
import type { RopeArgs } from '../../../tensor/ops';
import { fma32 } from './ggml-float';
import { glibcSinCosf } from './glibc-sincosf';

// module-level copy for the hot loop (under tsx an imported binding is a getter call per use)
const fma = fma32;

export function rope(x: Float32Array, shape: readonly number[], positions: Int32Array, args: RopeArgs, out: Float32Array): void {
  const rank = shape.length;
  const headDim = shape[rank - 1];
  const heads = shape[rank - 2];
  const tokens = shape[rank - 3];
  const fr = Math.fround;
  const half = args.dims / 2;
  out.set(x);
  for (let base = 0, t = 0; base < x.length; base += heads * headDim, t = (t + 1) % tokens) {
    const cs = ropeAngles(positions[t], args);
    for (let h = 0; h < heads; h++) {
      const o = base + h * headDim;
      for (let i = 0; i < half; i++) {
        const a = args.mode === 'norm' ? o + 2 * i : o + i;
        const b = args.mode === 'norm' ? a + 1 : a + half;
        const x0 = x[a];
        const x1 = x[b];
        const cos = cs[2 * i];
        const sin = cs[2 * i + 1];
        out[a] = fma(x0, cos, -fr(x1 * sin));
        out[b] = fma(x0, sin, fr(x1 * cos));
      }
    }
  }
}

const caches = new Map<string, Float32Array[]>();

/** [cos, sin] of every pair at one position, as ggml_rope_cache_init; memoized (glibc's reduction is slow here). */
export function ropeAngles(position: number, args: RopeArgs): Float32Array {
  const key = `${args.freqBase}|${args.freqScale}|${args.dims}`;
  let rows = caches.get(key);
  if (!rows) caches.set(key, (rows = []));
  let cs = rows[position];
  if (!cs) {
    const fr = Math.fround;
    const thetaScale = fr(Math.pow(args.freqBase, fr(-2 / args.dims)));
    cs = rows[position] = new Float32Array(args.dims);
    let theta = fr(position);
    for (let i = 0; i < args.dims / 2; i++) {
      const [sin, cos] = glibcSinCosf(fr(args.freqScale * theta));
      cs[2 * i] = cos;
      cs[2 * i + 1] = sin;
      theta = fr(theta * thetaScale);
    }
  }
  return cs;
}
