// What every WASM op needs before its kernel runs: scratch memory for the duration of the call, and
// its float32 inputs as heap addresses (in place when the view is contiguous, else copied).
import type { View } from '../../../tensor/view';
import { materialize, type CpuBuffer } from '../buffer';
import type { WasmHeap } from './heap';
import { captureOf, computedInJavaScript } from './capture';

export type Operand = { buffer: CpuBuffer; view: View };

/**
 * Run `fn` with `take(bytes)` handing out heap ranges that are all released when it returns (or,
 * while a kernel is captured, kept with the capture: its recorded calls point into them).
 */
export function withScratch<T>(heap: WasmHeap, fn: (take: (bytes: number) => number) => T): T {
  const taken: [number, number][] = [];
  try {
    return fn((bytes) => {
      const offset = heap.allocate(bytes);
      taken.push([offset, bytes]);
      return offset;
    });
  } finally {
    const capture = captureOf(heap);
    if (capture) capture.kept.push(...taken);
    else for (const [offset, bytes] of taken) heap.release(offset, bytes);
  }
}

/** Byte offset in the heap of `x`'s elements in row-major order: in its own buffer when the view is dense (a row slice too), else in a copy. */
export function f32Address(heap: WasmHeap, x: Operand, take: (bytes: number) => number): number {
  if (x.buffer.heapOffset !== null && x.view.isDense()) return x.buffer.heapOffset + 4 * x.view.offset;
  computedInJavaScript(heap, 'a strided input copied');
  const offset = take(4 * x.view.size);
  heap.f32(offset, x.view.size).set(materialize(x.buffer.data as Float32Array, x.view));
  return offset;
}
