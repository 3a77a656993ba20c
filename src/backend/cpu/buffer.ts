// CPU device buffers are typed arrays: Float32Array (f32), Int32Array (i32), or the raw GGUF
// block bytes (Uint8Array) of a block dtype — views into the WASM heap when the fast path is on
// (heapOffset: their byte offset there, which the WASM kernels address), plain arrays otherwise.
import type { Backend, DeviceBuffer } from '../../tensor/backend';
import type { DType } from '../../tensor/dtype';
import type { View } from '../../tensor/view';

export class CpuBuffer implements DeviceBuffer {
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly length: number,
    readonly data: Float32Array | Int32Array | Uint8Array,
    readonly heapOffset: number | null = null,
  ) {}

  /** Freed already (a second free must not hand the heap range out twice). */
  released = false;

  get bytes(): number {
    return this.data.byteLength;
  }
}

/** The elements of `view` over an f32/i32 array, row-major; the array itself when already so. */
export function materialize<T extends Float32Array | Int32Array>(data: T, view: View): T {
  if (view.isContiguous() && view.size === data.length) return data;
  const out = new (data.constructor as { new (n: number): T })(view.size);
  const { shape, strides, offset } = view;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = data[offset];
    return out;
  }
  const idx = new Array<number>(rank).fill(0);
  const inner = shape[rank - 1];
  const innerStride = strides[rank - 1];
  let o = 0;
  let base = offset;
  while (o < out.length) {
    for (let i = 0, p = base; i < inner; i++, p += innerStride) out[o++] = data[p];
    // Advance the outer index (odometer) and recompute the base offset.
    let d = rank - 2;
    while (d >= 0) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}
