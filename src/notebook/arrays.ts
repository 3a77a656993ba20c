// The numeric inputs notebook helpers accept — plain arrays, typed arrays, ndarrays, matrices — and
// their JSON form. Plain data on purpose: the tensor library hands over values, shape and strings.

import { shortestFloat32 } from './format';

/** scijs ndarray (what `tensorNdarray` returns) or anything shaped like it: a strided view. */
export interface NdArrayLike {
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset: number;
  readonly data: ArrayLike<number>;
}

/** Values as a flat array (row-major), or an ndarray that carries its own shape. */
export type Values = ArrayLike<number> | NdArrayLike;

/**
 * A 2-D table of numbers: an array of rows, an ndarray of shape [rows, cols], or flat row-major
 * values with their shape.
 */
export type Matrix = readonly ArrayLike<number>[] | NdArrayLike | { readonly values: ArrayLike<number>; readonly shape: readonly [number, number] };

export function isNdArray(x: unknown): x is NdArrayLike {
  const n = x as Partial<NdArrayLike>;
  return typeof x === 'object' && x !== null && Array.isArray(n.shape) && Array.isArray(n.stride) && typeof n.offset === 'number' && n.data !== undefined;
}

/** The shape of `values`: an ndarray's own, else one dimension. */
export function shapeOf(values: Values): number[] {
  return isNdArray(values) ? [...values.shape] : [values.length];
}

/** All values in row-major order; an ndarray's strided view is copied into an array of its data's kind. */
export function flatValues(values: Values): ArrayLike<number> {
  if (!isNdArray(values)) return values;
  const count = values.shape.reduce((a, b) => a * b, 1);
  const out = values.data instanceof Float32Array ? new Float32Array(count) : new Float64Array(count);
  const index = new Array<number>(values.shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = values.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * values.stride[d];
    out[i] = values.data[at];
    for (let d = index.length - 1; d >= 0 && ++index[d] === values.shape[d]; d--) index[d] = 0;
  }
  return out;
}

/** The rows of a matrix, each a flat array (typed-array rows are views, not copies). */
export function matrixRows(m: Matrix): ArrayLike<number>[] {
  if (isNdArray(m)) {
    if (m.shape.length !== 2) throw new Error(`expected a 2-D ndarray [rows, cols], got shape [${m.shape.join(', ')}]; slice or reshape it first`);
    return rowsOf(flatValues(m), m.shape[0], m.shape[1]);
  }
  if (isRowList(m)) {
    const ragged = m.findIndex((r) => r.length !== m[0].length);
    if (ragged >= 0) throw new Error(`row ${ragged} has ${m[ragged].length} values but row 0 has ${m[0].length}: a matrix needs rows of equal length`);
    return [...m];
  }
  const [rows, cols] = m.shape;
  if (m.values.length !== rows * cols) throw new Error(`shape [${rows}, ${cols}] needs ${rows * cols} values, got ${m.values.length}`);
  return rowsOf(m.values, rows, cols);
}

function isRowList(m: Matrix): m is readonly ArrayLike<number>[] {
  return Array.isArray(m);
}

function rowsOf(values: ArrayLike<number>, rows: number, cols: number): ArrayLike<number>[] {
  const slice = (start: number): ArrayLike<number> =>
    ArrayBuffer.isView(values) ? (values as unknown as Float32Array).subarray(start, start + cols) : Array.prototype.slice.call(values, start, start + cols);
  return Array.from({ length: rows }, (_, r) => slice(r * cols));
}

/**
 * Numbers for JSON: float32 values as their shortest exact decimal (compact and exact), NaN and
 * infinities as null (JSON has neither; plotly shows a gap).
 */
export function jsonNumbers(values: ArrayLike<number>): (number | null)[] {
  const float32 = values instanceof Float32Array;
  return Array.from(values, (v) => (Number.isFinite(v) ? (float32 ? shortestFloat32(v) : v) : null));
}
