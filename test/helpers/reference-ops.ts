// Float64 reference implementations of the tensor ops, written as plainly as possible (index
// arithmetic on flat arrays), independent of the library's kernels. Tests compare every backend
// against these.

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function stridesOf(shape: Shape): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of flat index i in shape. */
export function unravel(i: number, shape: Shape): number[] {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function ravel(idx: number[], shape: Shape): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + idx[d];
  return i;
}

/** Broadcast read: element of x (shape xs) at output index idx (shape out). */
export function bget(x: ArrayLike<number>, xs: Shape, idx: number[]): number {
  const lead = idx.length - xs.length;
  return x[ravel(xs.map((d, i) => (d === 1 ? 0 : idx[lead + i])), xs)];
}

export function broadcast(a: Shape, b: Shape): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
}

export function binary(a: ArrayLike<number>, as: Shape, b: ArrayLike<number>, bs: Shape, f: (x: number, y: number) => number): { data: Float64Array; shape: number[] } {
  const shape = broadcast(as, bs);
  const data = new Float64Array(numel(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    data[i] = f(bget(a, as, idx), bget(b, bs, idx));
  }
  return { data, shape };
}

export function transpose2(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    out[i * n + j] = s;
  }
  return out;
}

export function reduceRef(x: ArrayLike<number>, shape: Shape, axis: number, f: 'sum' | 'max' | 'min' | 'argmax'): Float64Array {
  const outShape = shape.filter((_, i) => i !== axis);
  const out = new Float64Array(numel(outShape));
  for (let o = 0; o < out.length; o++) {
    const idx = unravel(o, outShape);
    let acc = f === 'sum' ? 0 : NaN;
    let arg = 0;
    for (let k = 0; k < shape[axis]; k++) {
      const full = [...idx.slice(0, axis), k, ...idx.slice(axis)];
      const v = x[ravel(full, shape)];
      if (f === 'sum') acc += v;
      else if (Number.isNaN(acc) || (f === 'min' ? v < acc : v > acc)) {
        acc = v;
        arg = k;
      }
    }
    out[o] = f === 'argmax' ? arg : acc;
  }
  return out;
}

export function rmsNormRef(x: ArrayLike<number>, width: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / width; r++) {
    let ss = 0;
    for (let i = 0; i < width; i++) ss += x[r * width + i] ** 2;
    const s = 1 / Math.sqrt(ss / width + eps);
    for (let i = 0; i < width; i++) out[r * width + i] = x[r * width + i] * s;
  }
  return out;
}

/** RoPE on [tokens, heads, dim] from its definition: pair angle = scale * pos * base^(-2i/dims). */
export function ropeRef(x: ArrayLike<number>, tokens: number, heads: number, dim: number, pos: number[], mode: 'norm' | 'neox', dims: number, base: number, scale: number): Float64Array {
  const out = Float64Array.from(x);
  for (let t = 0; t < tokens; t++) for (let h = 0; h < heads; h++) for (let i = 0; i < dims / 2; i++) {
    const theta = scale * pos[t] * Math.pow(base, (-2 * i) / dims);
    const o = (t * heads + h) * dim;
    const a = mode === 'norm' ? o + 2 * i : o + i;
    const b = mode === 'norm' ? a + 1 : a + dims / 2;
    out[a] = x[a] * Math.cos(theta) - x[b] * Math.sin(theta);
    out[b] = x[a] * Math.sin(theta) + x[b] * Math.cos(theta);
  }
  return out;
}

export function softmaxRef(x: ArrayLike<number>, rows: number, n: number, scale: number, causalOffset: number | null, rowsPerMatrix: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const i = r % rowsPerMatrix;
    const limit = causalOffset === null ? n : Math.min(n, i + causalOffset + 1);
    const vals = Array.from({ length: limit }, (_, j) => x[r * n + j] * scale);
    const mx = Math.max(...vals);
    const e = vals.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    for (let j = 0; j < limit; j++) out[r * n + j] = e[j] / s;
  }
  return out;
}

/** max |a - b| / max |b| over the whole output (0 when both are zero). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    if (Number.isNaN(b[i])) continue;
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
