// Weights larger than one storage binding are read in windows of whole rows: each window is an
// aligned binding of the buffer plus the byte shift to its first row, and kernels get one dispatch
// per window.
import type { Capabilities } from '../capabilities';
import { byteWindow, type GpuBuffer } from '../gpu-buffer';

export interface RowWindow {
  binding: GPUBufferBinding;
  /** Bytes from the binding's start to the first row of the window. */
  shift: number;
  firstRow: number;
  rows: number;
}

/** Windows covering rows [0, rows) of `rowBytes` each, starting `baseByte` into `buffer`. */
export function rowWindows(buffer: GpuBuffer, baseByte: number, rows: number, rowBytes: number, caps: Capabilities): RowWindow[] {
  const whole = byteWindow(buffer, baseByte, baseByte + rows * rowBytes, caps.storageAlign, caps.maxBindingBytes);
  if (whole) return [{ binding: whole.binding, shift: whole.shift, firstRow: 0, rows }];
  // An aligned window may start up to storageAlign - 1 bytes before its first row.
  const perWindow = Math.floor((caps.maxBindingBytes - caps.storageAlign) / rowBytes);
  if (perWindow < 1) throw new Error(`one row of ${rowBytes} bytes does not fit in a storage binding of ${caps.maxBindingBytes} bytes`);
  const windows: RowWindow[] = [];
  for (let first = 0; first < rows; first += perWindow) {
    const count = Math.min(perWindow, rows - first);
    const start = baseByte + first * rowBytes;
    const w = byteWindow(buffer, start, start + count * rowBytes, caps.storageAlign, caps.maxBindingBytes)!;
    windows.push({ binding: w.binding, shift: w.shift, firstRow: first, rows: count });
  }
  return windows;
}
