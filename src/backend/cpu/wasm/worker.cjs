// A thread of the WASM CPU fast path: instantiates the kernels over the shared memory, then claims
// and runs parts of every job the main thread posts in the control block.
// Plain JavaScript so that it starts without a TypeScript loader. Protocol: see threads.ts.
'use strict';
const { workerData } = require('node:worker_threads');

const { claimPart } = require('./claim-part.cjs');
const { readFilePart } = require('./read-file.cjs');

const { wasmModule, memory, control, controlInts, errorFlag, partCount, nextPart, errorBytes, stackTop, ith, functions } = workerData;
const instance = new WebAssembly.Instance(wasmModule, { env: { memory } });
instance.exports.__stack_pointer.value = stackTop;
const ctl = new Int32Array(memory.buffer, control, controlInts);
const errorText = new Uint8Array(memory.buffer, control + 4 * controlInts, errorBytes);
// every exported kernel, and reading a file into the heap (read-file.cjs)
const table = functions.map((name) => (name === 'read_file' ? (...args) => readFilePart(memory, ...args) : instance.exports[name]));
// Spin this long for the next job before sleeping: a decode step posts a job every few hundred
// microseconds and builds the next step's graph in a few milliseconds, while waking from
// Atomics.wait took up to 1.5 ms on the virtual machines we measured (the core is ours meanwhile).
const SPIN_MS = 20;

/** f(...the job's n arguments, part, parts). */
function call(f, n, part, parts) {
  const a = ctl;
  if (n === 7) f(a[4], a[5], a[6], a[7], a[8], a[9], a[10], part, parts);
  else if (n === 8) f(a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], part, parts);
  else if (n === 5) f(a[4], a[5], a[6], a[7], a[8], part, parts);
  else f(...Array.from(a.subarray(4, 4 + n)), part, parts);
}

let seen = 0; // the last job number looked at: one posted before this thread started is still run
for (;;) {
  let spins = 0;
  let since = performance.now();
  while (Atomics.load(ctl, 0) === seen) {
    if ((++spins & 1023) === 0 && performance.now() - since > SPIN_MS) {
      Atomics.wait(ctl, 0, seen);
      since = performance.now();
    }
  }
  seen = Atomics.load(ctl, 0);
  // Read (atomically) before claiming: if this job is already over (we were late), the claim fails
  // and whatever was read of a later job is never used (threads.ts closes claims before writing it).
  const fn = Atomics.load(ctl, 2);
  if (fn < 0) break;
  const f = table[fn];
  const n = Atomics.load(ctl, 3);
  const parts = Atomics.load(ctl, partCount);
  for (let part; (part = claimPart(ctl, nextPart, seen, parts)) >= 0; ) {
    try {
      call(f, n, part, parts);
    } catch (e) {
      // The main thread cannot receive messages while it waits: leave the error in the control block.
      const text = new TextEncoder().encode(`thread ${ith}: ${e && e.stack ? e.stack : e}`).subarray(0, errorBytes);
      errorText.set(text);
      errorText.fill(0, text.length);
      Atomics.store(ctl, errorFlag, 1);
    }
    if (Atomics.add(ctl, 1, 1) === parts - 1) Atomics.notify(ctl, 1);
  }
}
