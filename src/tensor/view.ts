// How a tensor's elements map onto a flat buffer: shape, strides (in elements) and offset.
// Movement ops (reshape, permute, slice, expand) are new Views of the same buffer, never copies,
// whenever the result is still one affine map; the few reshapes that are not return null and the
// caller materializes a contiguous copy first.

/** One movement op, replayable on any View (tensors keep the list since their base node). */
export type Movement =
  | { kind: 'reshape'; shape: Shape }
  | { kind: 'permute'; order: readonly number[] }
  | { kind: 'slice'; axis: number; start: number; end: number }
  | { kind: 'expand'; shape: Shape };

/** Apply movements to a view; null if a reshape stops being affine. */
export function replay(view: View, moves: readonly Movement[]): View | null {
  let v: View | null = view;
  for (const m of moves) {
    if (!v) return null;
    switch (m.kind) {
      case 'reshape':
        v = v.reshape(m.shape);
        break;
      case 'permute':
        v = v.permute(m.order);
        break;
      case 'slice':
        v = v.slice(m.axis, m.start, m.end);
        break;
      case 'expand':
        v = v.expand(m.shape);
        break;
    }
  }
  return v;
}

export type Shape = readonly number[];

export class View {
  constructor(
    readonly shape: Shape,
    readonly strides: readonly number[],
    readonly offset = 0,
  ) {}

  static contiguous(shape: Shape): View {
    return new View(shape, contiguousStrides(shape), 0);
  }

  get size(): number {
    return numel(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Row-major and dense, starting anywhere: the elements are one run of the buffer from `offset`. */
  isDense(): boolean {
    let expected = 1;
    for (let d = this.rank - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.strides[d] !== expected) return false;
      expected *= this.shape[d];
    }
    return true;
  }

  /** Row-major and dense from offset 0: the buffer can be used as is. */
  isContiguous(): boolean {
    if (this.offset !== 0) return false;
    const c = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || this.strides[i] === c[i]);
  }

  permute(order: readonly number[]): View {
    return new View(order.map((i) => this.shape[i]), order.map((i) => this.strides[i]), this.offset);
  }

  /** Elements [start, end) along `axis` (end exclusive). */
  slice(axis: number, start: number, end: number): View {
    const shape = [...this.shape];
    shape[axis] = end - start;
    return new View(shape, this.strides, this.offset + start * this.strides[axis]);
  }

  /** Broadcast size-1 dimensions to `shape` (stride 0); leading dimensions may be added. */
  expand(shape: Shape): View {
    const lead = shape.length - this.rank;
    const strides = shape.map((d, i) => {
      if (i < lead) return 0;
      const own = this.shape[i - lead];
      return own === d ? this.strides[i - lead] : 0;
    });
    return new View(shape, strides, this.offset);
  }

  /** The same elements in a new shape, if that is still affine; null when a copy is needed. */
  reshape(shape: Shape): View | null {
    if (numel(shape) !== this.size) throw new RangeError(`cannot reshape [${this.shape}] to [${shape}]`);
    if (this.isContiguous()) return View.contiguous(shape);
    // Group old and new dimensions into runs with equal products; each old run must be
    // internally contiguous (stride[i] = stride[i+1] * shape[i+1]) to be re-split freely.
    const oldDims = this.shape.map((d, i) => ({ d, s: this.strides[i] })).filter((x) => x.d !== 1);
    const strides: number[] = new Array(shape.length).fill(0);
    let oi = 0;
    let ni = 0;
    while (ni < shape.length || oi < oldDims.length) {
      if (ni < shape.length && shape[ni] === 1) {
        strides[ni++] = 0;
        continue;
      }
      if (oi >= oldDims.length || ni >= shape.length) return null;
      let oldProd = oldDims[oi].d;
      let newProd = shape[ni];
      const oStart = oi;
      const nStart = ni;
      while (oldProd !== newProd) {
        if (oldProd < newProd) oldProd *= oldDims[++oi].d;
        else newProd *= shape[++ni];
      }
      for (let k = oStart; k < oi; k++) if (oldDims[k].s !== oldDims[k + 1].s * oldDims[k + 1].d) return null;
      let stride = oldDims[oi].s;
      for (let k = ni; k >= nStart; k--) {
        strides[k] = shape[k] === 1 ? 0 : stride;
        stride *= shape[k];
      }
      oi++;
      ni++;
    }
    return new View(shape, strides, this.offset);
  }
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** NumPy broadcasting of two shapes; null if incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

export function shapeString(s: Shape): string {
  return `[${s.join(', ')}]`;
}
