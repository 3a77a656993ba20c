// A device buffer of the WebGPU backend: one GPUBuffer holding a tensor's elements (f32, i32) or
// its raw GGUF blocks, and the windows through which kernels bind it. A buffer may be larger than
// one storage binding may be (maxStorageBufferBindingSize, 128 MiB on the adapters seen): kernels
// then bind an aligned window around the elements they read, and linear/getRows split their work
// into one dispatch per window of whole weight rows.
import type { Backend, DeviceBuffer } from '../../tensor/backend';
import type { DType } from '../../tensor/dtype';
import type { View } from '../../tensor/view';

export class GpuBuffer implements DeviceBuffer {
  /** Set by free(): any later use is a mistake worth naming. */
  released = false;
  /** gpu.size, read once: the native getter costs more than the rest of a dispatch's bookkeeping. */
  readonly bytes: number;

  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly length: number,
    readonly gpu: GPUBuffer,
  ) {
    this.bytes = gpu.size;
  }
}

/** A binding of part of a buffer, and where the wanted data starts inside it (in bytes). */
export interface Window {
  binding: GPUBufferBinding;
  /** Bytes from the binding's start to the first byte wanted. */
  shift: number;
}

/** Bytes [start, end) of `buffer` as one binding whose offset respects `align`; null if too large for `maxBytes`. */
export function byteWindow(buffer: GpuBuffer, start: number, end: number, align: number, maxBytes: number): Window | null {
  if (buffer.bytes <= maxBytes) return { binding: { buffer: buffer.gpu }, shift: start };
  const offset = Math.floor(start / align) * align;
  const size = Math.min(buffer.bytes - offset, roundUp(end - offset, 4));
  if (size > maxBytes) return null;
  return { binding: { buffer: buffer.gpu, offset, size }, shift: start - offset };
}

/** Smallest and largest element index a view touches (strides are never negative). */
export function viewRange(view: View): [number, number] {
  let last = view.offset;
  for (let d = 0; d < view.rank; d++) last += (view.shape[d] - 1) * view.strides[d];
  return [view.offset, view.size === 0 ? view.offset : last];
}


export function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}
