// The WASM CPU kernels, loaded once per process: the compiled module (kernels.wasm, built from c/
// by scripts/build-wasm.mjs), its shared memory (heap.ts) and the worker threads (threads.ts).
// `loadWasmRuntime` returns null when the module was not built, and the CPU backend then runs its
// TypeScript reference kernels.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WasmHeap } from './heap';
import { ThreadPool } from './threads';

export const WASM_PATH = path.join(__dirname, 'kernels.wasm');

/** Exported kernels, each called as f(...args, ith, nth) with int32 arguments (floats as their bits). */
const FUNCTIONS = ['quantize_q8_0', 'linear_q4_0_q8_0', 'linear_q0_lanes', 'quantize_q8_k', 'linear_q4_k_q8_k', 'linear_q6_k_q8_k', 'linear_q5_k_q8_k', 'linear_q3_k_q8_k', 'linear_q2_k_q8_k', 'linear_q2_k_repacked_q8_k', 'quantize_q8_1', 'linear_qx_1_q8_1', 'matmul_f16_ggml', 'softmax_ggml', 'linear_float', 'activation_sums', 'linear_float_ggml', 'round_to_f16'] as const;
export type KernelName = (typeof FUNCTIONS)[number];

type Exports = Record<KernelName, (...args: number[]) => void> & {
  init_tables(): void;
  __heap_base: WebAssembly.Global;
};

/** Below this much work a kernel runs on the calling thread only. */
const SHARED_WORK_MIN = 1 << 19;

export class WasmRuntime {
  readonly heap: WasmHeap;
  private readonly exports: Exports;
  private readonly pool: ThreadPool;

  constructor(module: WebAssembly.Module, readonly threads: number) {
    const probe = new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true }) } });
    const heapBase = (probe.exports.__heap_base as WebAssembly.Global).value as number;
    this.heap = new WasmHeap(heapBase, Math.ceil(heapBase / 65536) + 16);
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.heap.memory } }).exports as unknown as Exports;
    this.exports.init_tables();
    this.pool = new ThreadPool(this.heap, module, threads, FUNCTIONS);
  }

  /**
   * Run a kernel on every thread — or on this one alone when its `work` (multiply-adds, or bytes
   * touched) is too small to pay for waking the others (tens of microseconds, more on a busy machine).
   */
  run(name: KernelName, args: readonly number[], work: number): void {
    const f = this.exports[name];
    if (work < SHARED_WORK_MIN) f(...args, 0, 1);
    else this.pool.run(name, args, (ith, nth) => f(...args, ith, nth));
  }

  close(): void {
    this.pool.close();
  }
}

const runtimes = new Map<number, WasmRuntime>();

/** Threads the fast path uses: LLAMASCOPE_THREADS, else every core the OS offers us. */
export function defaultThreads(): number {
  const env = process.env.LLAMASCOPE_THREADS;
  if (env) {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`LLAMASCOPE_THREADS=${env} is not a positive whole number`);
    return n;
  }
  return os.availableParallelism();
}

/**
 * The process's WASM runtime with `threads` threads (one per thread count, created on first use
 * and kept: backends share it), or null when kernels.wasm has not been built.
 */
export function loadWasmRuntime(threads: number): WasmRuntime | null {
  const existing = runtimes.get(threads);
  if (existing) return existing;
  if (!fs.existsSync(WASM_PATH)) return null;
  const runtime = new WasmRuntime(new WebAssembly.Module(fs.readFileSync(WASM_PATH)), threads);
  runtimes.set(threads, runtime);
  return runtime;
}
