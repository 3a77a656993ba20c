// Worker threads over the shared WASM memory. A job is one exported kernel called on every thread
// with the same arguments plus (ith, nth); each thread takes its share of the rows. The control
// block (CONTROL_INTS int32 in the shared memory): [0] job number, [1] workers done, [2] function
// index (-1: exit), [3] argument count, [4..] arguments, [ERROR_FLAG] set when a worker's call
// threw, with the error's text in the ERROR_BYTES after the block. Workers spin briefly before sleeping in
// Atomics.wait (a decode step posts jobs back to back); the main thread runs share 0 itself.
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import type { WasmHeap } from './heap';

const STACK_BYTES = 256 * 1024;
const STALL_MS = 120_000;
const MAX_ARGS = 32;
const ERROR_FLAG = 4 + MAX_ARGS;
const CONTROL_INTS = 48;
const ERROR_BYTES = 1024;

export class ThreadPool {
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  private readonly controlOffset: number;
  private readonly stacks: number[] = [];

  constructor(
    private readonly heap: WasmHeap,
    module: WebAssembly.Module,
    readonly threads: number,
    private readonly functions: readonly string[],
  ) {
    this.controlOffset = heap.allocate(4 * CONTROL_INTS + ERROR_BYTES);
    this.control = heap.i32(this.controlOffset, CONTROL_INTS);
    this.control.fill(0);
    for (let ith = 1; ith < threads; ith++) {
      const stack = heap.allocate(STACK_BYTES);
      this.stacks.push(stack);
      const worker = new Worker(path.join(__dirname, 'worker.cjs'), {
        workerData: { wasmModule: module, memory: heap.memory, control: this.controlOffset, controlInts: CONTROL_INTS, errorFlag: ERROR_FLAG, errorBytes: ERROR_BYTES, stackTop: stack + STACK_BYTES, ith, nth: threads, functions },
      });
      worker.unref();
        this.workers.push(worker);
    }
  }

  /** Run `name(...args, ith, nth)` on every thread; returns when all are done. */
  run(name: string, args: readonly number[], runHere: (ith: number, nth: number) => void): void {
    const ctl = this.control;
    if (this.threads === 1) return runHere(0, 1);
    if (args.length > MAX_ARGS) throw new Error(`${name}: a job takes at most ${MAX_ARGS} arguments, not ${args.length}`);
    ctl[2] = this.functions.indexOf(name);
    ctl[3] = args.length;
    for (let i = 0; i < args.length; i++) ctl[4 + i] = args[i];
    Atomics.store(ctl, 1, 0);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    let failure: unknown = null;
    try {
      runHere(0, this.threads);
    } catch (e) {
      failure = e; // still wait for the others: the next job must not start under them
    }
    const others = this.threads - 1;
    let spins = 0;
    const started = Date.now();
    for (;;) {
      const done = Atomics.load(ctl, 1);
      if (done === others) break;
      if (++spins > 200000) {
        Atomics.wait(ctl, 1, done, 1);
        // A thread that trapped never reports; its error event cannot arrive while we wait here.
        if (Date.now() - started > STALL_MS) throw new Error(`a WASM kernel thread stopped responding during ${name}; restart the process, or set LLAMASCOPE_CPU_KERNELS=reference to use the TypeScript kernels`);
      }
    }
    if (failure) throw failure;
    if (ctl[ERROR_FLAG]) {
      ctl[ERROR_FLAG] = 0;
      const text = new TextDecoder().decode(this.heap.u8(this.controlOffset + 4 * CONTROL_INTS, ERROR_BYTES).slice()).replace(/\0+$/, '');
      throw new Error(`the WASM kernel ${name} failed on ${text}`);
    }
  }

  close(): void {
    if (this.threads === 1) return;
    this.control[2] = -1;
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    for (const w of this.workers) void w.terminate();
  }
}
