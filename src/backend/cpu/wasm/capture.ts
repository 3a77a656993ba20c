// The WASM calls one kernel makes, recorded so that a Plan's replays repeat them without the
// JavaScript that chose their arguments (CpuBackend.prepare). A kernel qualifies when all it did
// was WASM calls on memory that stays put: its scratch is kept for the replays instead of
// released, and anything computed in JavaScript from the data — a strided input copied, RoPE's
// angles from the positions, a TypeScript kernel — disqualifies it (it is then rerun whole).
import type { WasmHeap } from './heap';

export interface Capture {
  calls: { name: string; args: readonly number[]; work: number }[];
  /** Scratch taken while capturing: the calls' arguments point into it. */
  kept: [offset: number, bytes: number][];
  /** Why the kernel cannot be replayed from its calls, or null. */
  disqualified: string | null;
}

const captures = new WeakMap<WasmHeap, Capture>();

/** The capture under way on `heap`, if any. */
export function captureOf(heap: WasmHeap): Capture | undefined {
  return captures.get(heap);
}

/** Run `fn` recording into a new capture; returns it (its scratch to be released by the caller). */
export function capturing(heap: WasmHeap, fn: () => void): Capture {
  if (captures.has(heap)) throw new Error('a WASM capture is already under way');
  const capture: Capture = { calls: [], kept: [], disqualified: null };
  captures.set(heap, capture);
  try {
    fn();
  } catch (e) {
    for (const [offset, bytes] of capture.kept) heap.release(offset, bytes);
    throw e;
  } finally {
    captures.delete(heap);
  }
  return capture;
}

/** Work done in JavaScript from the data: the kernel under capture, if any, must be rerun whole. */
export function computedInJavaScript(heap: WasmHeap, what: string): void {
  const capture = captures.get(heap);
  if (capture) capture.disqualified ??= what;
}
