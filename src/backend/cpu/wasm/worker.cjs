// A thread of the WASM CPU fast path: instantiates the kernels over the shared memory, then runs
// its share (thread `ith` of `nth`) of every job the main thread posts in the control block.
// Plain JavaScript so that it starts without a TypeScript loader. Protocol: see threads.ts.
'use strict';
const { workerData } = require('node:worker_threads');

const { wasmModule, memory, control, controlInts, errorFlag, errorBytes, stackTop, ith, nth, functions } = workerData;
const instance = new WebAssembly.Instance(wasmModule, { env: { memory } });
instance.exports.__stack_pointer.value = stackTop;
const ctl = new Int32Array(memory.buffer, control, controlInts);
const errorText = new Uint8Array(memory.buffer, control + 4 * controlInts, errorBytes);
const table = functions.map((name) => instance.exports[name]);
const SPIN = 20000;

let seen = 0; // jobs are numbered from 1: one posted before this thread started is still run
for (;;) {
  let spins = 0;
  while (Atomics.load(ctl, 0) === seen) {
    if (++spins > SPIN) {
      Atomics.wait(ctl, 0, seen);
      spins = 0;
    }
  }
  seen = Atomics.load(ctl, 0);
  const fn = ctl[2];
  if (fn < 0) break;
  const f = table[fn];
  const n = ctl[3];
  const a = ctl;
  try {
    if (n === 7) f(a[4], a[5], a[6], a[7], a[8], a[9], a[10], ith, nth);
    else if (n === 8) f(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], ith, nth);
    else if (n === 5) f(a[4], a[5], a[6], a[7], a[8], ith, nth);
    else f(...Array.from(a.subarray(4, 4 + n)), ith, nth);
  } catch (e) {
    // The main thread cannot receive messages while it waits: leave the error in the control block.
    const text = new TextEncoder().encode(`thread ${ith}: ${e && e.stack ? e.stack : e}`).subarray(0, errorBytes);
    errorText.set(text);
    errorText.fill(0, text.length);
    Atomics.store(ctl, errorFlag, 1);
  }
  if (Atomics.add(ctl, 1, 1) === nth - 2) Atomics.notify(ctl, 1);
}
