// Worker threads over the shared WASM memory. A job is one exported kernel called with the same
// arguments plus (part, parts); each call computes that part of the rows. Every thread, the
// calling one included, claims the job's next part from a shared counter until none is left, and
// the job is over when every part has finished — not when every worker has answered: a worker the
// OS has preempted (on two cores, any third runnable thread — GC helpers, the compiler — takes
// one of ours for a millisecond or more, in ~1% of a decode step's jobs) simply claims nothing,
// and the caller runs its parts instead of waiting for it. The counter carries the job's number
// in its high bits, so a late worker can never claim a part of a later job with the arguments of
// an earlier one. The control block (CONTROL_INTS int32 in the shared memory): [0] job number,
// [1] parts finished, [2] function index (-1: exit), [3] argument count, [4..] arguments,
// [PART_COUNT] parts, [NEXT_PART] the claim counter (claim-part.cjs), [ERROR_FLAG] set when a
// worker's call threw, with the error's text in the ERROR_BYTES after the block. Workers spin
// before sleeping in Atomics.wait (a decode step posts jobs back to back).
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import type { WasmHeap } from './heap';
import { claimPart, closedClaim, firstClaim, JOB_MASK, MAX_PARTS } from './claim-part.cjs';

const STACK_BYTES = 256 * 1024;
const STALL_MS = 120_000;
/** How long the calling thread spins for the others to finish before it sleeps between checks (worker.cjs: why). */
const SPIN_MS = 5;
const MAX_ARGS = 32;
const ERROR_FLAG = 4 + MAX_ARGS;
const PART_COUNT = ERROR_FLAG + 1;
const NEXT_PART = ERROR_FLAG + 2;
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
        workerData: { wasmModule: module, memory: heap.memory, control: this.controlOffset, controlInts: CONTROL_INTS, errorFlag: ERROR_FLAG, partCount: PART_COUNT, nextPart: NEXT_PART, errorBytes: ERROR_BYTES, stackTop: stack + STACK_BYTES, ith, functions },
        // plain JavaScript: none of the parent's loaders (tsx would add ~10 MB per worker)
        execArgv: [],
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /**
   * Run `name(...args, part, parts)` for parts 0..parts-1, spread over the threads as they claim
   * them; `runHere` is this thread's call. Returns when every part is done.
   */
  run(name: string, args: readonly number[], parts: number, runHere: (part: number, parts: number) => void): void {
    const ctl = this.control;
    if (this.threads === 1) return runHere(0, 1); // every part at once
    if (args.length > MAX_ARGS) throw new Error(`${name}: a job takes at most ${MAX_ARGS} arguments, not ${args.length}`);
    if (!(parts >= 1 && parts < MAX_PARTS)) throw new Error(`${name}: a job has 1 to ${MAX_PARTS - 1} parts, not ${parts}`);
    // Claims closed first: a late worker that reads this job's kernel or part count below while
    // it still holds the previous job's number can then claim nothing (claim-part.cjs). The
    // fields a worker reads before claiming are atomic, so it sees them no later than that.
    const job = (ctl[0] + 1) & JOB_MASK;
    Atomics.store(ctl, NEXT_PART, closedClaim(job));
    Atomics.store(ctl, 2, this.functions.indexOf(name));
    Atomics.store(ctl, 3, args.length);
    for (let i = 0; i < args.length; i++) ctl[4 + i] = args[i];
    Atomics.store(ctl, PART_COUNT, parts);
    Atomics.store(ctl, 1, 0);
    Atomics.store(ctl, NEXT_PART, firstClaim(job));
    Atomics.store(ctl, 0, job);
    Atomics.notify(ctl, 0);
    let failure: unknown = null;
    for (let part; (part = claimPart(ctl, NEXT_PART, job, parts)) >= 0; ) {
      try {
        runHere(part, parts);
      } catch (e) {
        failure ??= e; // the others' parts still finish: the next job must not start under them
      }
      Atomics.add(ctl, 1, 1);
    }
    let spins = 0;
    const started = Date.now();
    const spinUntil = performance.now() + SPIN_MS;
    for (;;) {
      const finished = Atomics.load(ctl, 1);
      if (finished === parts) break;
      if ((++spins & 1023) === 0 && performance.now() > spinUntil) {
        Atomics.wait(ctl, 1, finished, 1);
        // A thread that trapped never reports; its error event cannot arrive while we wait here.
        if (Date.now() - started > STALL_MS) throw new Error(`a WASM kernel thread stopped responding during ${name}; restart the process, or set LLAMASCOPE_CPU_KERNELS=reference to use the TypeScript kernels`);
      }
    }
    // A worker's error is taken (and its flag cleared) even when this thread's own is thrown:
    // left set, it would fail the next job.
    let workerFailure: Error | null = null;
    if (ctl[ERROR_FLAG]) {
      ctl[ERROR_FLAG] = 0;
      const text = new TextDecoder().decode(this.heap.u8(this.controlOffset + 4 * CONTROL_INTS, ERROR_BYTES).slice()).replace(/\0+$/, '');
      workerFailure = new Error(`the WASM kernel ${name} failed on ${text}`);
    }
    if (failure) throw failure;
    if (workerFailure) throw workerFailure;
  }

  close(): void {
    if (this.threads === 1) return;
    this.control[2] = -1;
    Atomics.store(this.control, 0, (this.control[0] + 1) & JOB_MASK);
    Atomics.notify(this.control, 0);
    for (const w of this.workers) void w.terminate();
  }
}

