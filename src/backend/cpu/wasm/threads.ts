// Worker threads over the shared WASM memory. A job is one exported kernel called with the same
// arguments plus (part, parts); each call computes that part of the rows. A chunked job has more
// parts than threads and every thread takes the next part from a shared counter until none is
// left, so a thread that starts late (a worker waking up) or runs slower does less; a job that
// is not chunked (its kernel indexes per-thread scratch by part) gives part ith of nth to thread
// ith. The control block (CONTROL_INTS int32 in the shared memory): [0] job number, [1] workers
// done, [2] function index (-1: exit), [3] argument count, [4..] arguments, [CHUNK_COUNT] parts
// of a chunked job (0: not chunked), [NEXT_CHUNK] the counter, [ERROR_FLAG] set when a worker's
// call threw, with the error's text in the ERROR_BYTES after the block. Workers spin before
// sleeping in Atomics.wait (a decode step posts jobs back to back); the main thread works too.
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import type { WasmHeap } from './heap';

const STACK_BYTES = 256 * 1024;
const STALL_MS = 120_000;
/** How long the calling thread spins for the others to finish before it sleeps between checks (worker.cjs: why). */
const SPIN_MS = 5;
const MAX_ARGS = 32;
const ERROR_FLAG = 4 + MAX_ARGS;
const CHUNK_COUNT = ERROR_FLAG + 1;
const NEXT_CHUNK = ERROR_FLAG + 2;
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
        workerData: { wasmModule: module, memory: heap.memory, control: this.controlOffset, controlInts: CONTROL_INTS, errorFlag: ERROR_FLAG, chunkCount: CHUNK_COUNT, nextChunk: NEXT_CHUNK, errorBytes: ERROR_BYTES, stackTop: stack + STACK_BYTES, ith, nth: threads, functions },
      });
      worker.unref();
        this.workers.push(worker);
    }
  }

  /**
   * Run `name(...args, part, parts)` for every part on every thread (`chunks` parts taken from a
   * shared counter, or 0: part ith of nth on thread ith); `runHere` is this thread's call.
   * Returns when all are done.
   */
  run(name: string, args: readonly number[], chunks: number, runHere: (part: number, parts: number) => void): void {
    const ctl = this.control;
    if (this.threads === 1) return runHere(0, 1);
    if (args.length > MAX_ARGS) throw new Error(`${name}: a job takes at most ${MAX_ARGS} arguments, not ${args.length}`);
    ctl[2] = this.functions.indexOf(name);
    ctl[3] = args.length;
    for (let i = 0; i < args.length; i++) ctl[4 + i] = args[i];
    ctl[CHUNK_COUNT] = chunks;
    ctl[NEXT_CHUNK] = 0;
    Atomics.store(ctl, 1, 0);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    let failure: unknown = null;
    try {
      if (chunks === 0) runHere(0, this.threads);
      else for (let c; (c = Atomics.add(ctl, NEXT_CHUNK, 1)) < chunks; ) runHere(c, chunks);
    } catch (e) {
      failure = e; // still wait for the others: the next job must not start under them
    }
    const others = this.threads - 1;
    let spins = 0;
    const started = Date.now();
    const spinUntil = performance.now() + SPIN_MS;
    for (;;) {
      const done = Atomics.load(ctl, 1);
      if (done === others) break;
      if ((++spins & 1023) === 0 && performance.now() > spinUntil) {
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
