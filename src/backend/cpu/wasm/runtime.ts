// The WASM CPU kernels, loaded once per process: the compiled module, its shared memory (heap.ts)
// and the worker threads (threads.ts). Two builds of the same kernels (scripts/build-wasm.mjs):
// kernels-relaxed.wasm uses relaxed SIMD (x86's int8 dot product and FMA), and is used where it was
// built and this machine passes its probe (relaxed_simd_exact: the instructions give exactly what
// the kernels need); kernels.wasm (plain SIMD128) otherwise. `loadWasmRuntime` returns null when
// neither was built, and the CPU backend then runs its TypeScript reference kernels.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { WasmHeap } from './heap';
import { ThreadPool } from './threads';
import { captureOf, capturing } from './capture';
import { readFilePart } from './read-file.cjs';

export const WASM_PATH = path.join(__dirname, 'kernels.wasm');
export const RELAXED_WASM_PATH = path.join(__dirname, 'kernels-relaxed.wasm');

/** Which build of the kernels: 'relaxed' (relaxed SIMD) or 'simd128' (plain SIMD128). */
export type WasmSimd = 'relaxed' | 'simd128';

/** Exported kernels, each called as f(...args, part, parts) with int32 arguments (floats as their bits). */
const FUNCTIONS = ['quantize_q8_0', 'quantize_q8_0x4', 'linear_q4_0_q8_0', 'linear_q4_0_q8_0x4', 'linear_q0_lanes', 'linear_q0_lanes_x4', 'quantize_q8_k', 'linear_q4_k_q8_k', 'linear_q6_k_q8_k', 'linear_q5_k_q8_k', 'linear_q3_k_q8_k', 'linear_q2_k_q8_k', 'linear_q2_k_repacked_q8_k', 'quantize_q8_1', 'linear_qx_1_q8_1', 'matmul_f16_ggml', 'softmax_ggml', 'linear_float', 'activation_sums', 'linear_float_ggml', 'round_to_f16', 'silu_ggml', 'matmul_f64', 'binary_f32', 'rms_norm_f32', 'rope_f32'] as const;
export type KernelName = (typeof FUNCTIONS)[number];

type Exports = Record<KernelName, (...args: number[]) => void> & {
  init_tables(): void;
  __heap_base: WebAssembly.Global;
};

/** Below this much work a kernel runs on the calling thread only. */
const SHARED_WORK_MIN = 1 << 19;
/** A file is read into the heap in parts of at least this many bytes (readFile). */
const READ_PART_MIN_BYTES = 1 << 20;
/** Parts per thread of a shared job (threads.ts): small enough that the threads finish together. */
const PARTS_PER_THREAD = 8;
/**
 * Kernels run as one part per thread: matmul_f64 has scratch per part, sized so; matmul_f16_ggml's
 * decode parts are too short to split finer (8 parts a thread measured 20-50% slower at 150 keys).
 */
const ONE_PART_PER_THREAD: ReadonlySet<KernelName> = new Set(['matmul_f16_ggml', 'matmul_f64']);

export class WasmRuntime {
  readonly heap: WasmHeap;
  private readonly exports: Exports;
  private readonly pool: ThreadPool;

  constructor(module: WebAssembly.Module, readonly threads: number, readonly simd: WasmSimd) {
    const probe = new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true }) } });
    const heapBase = (probe.exports.__heap_base as WebAssembly.Global).value as number;
    this.heap = new WasmHeap(heapBase, Math.ceil(heapBase / 65536) + 16);
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.heap.memory } }).exports as unknown as Exports;
    this.exports.init_tables();
    this.pool = new ThreadPool(this.heap, module, threads, [...FUNCTIONS, 'read_file']);
  }

  /**
   * Run a kernel on every thread — or on this one alone when its `work` (multiply-adds, or bytes
   * touched) is too small to pay for waking the others (tens of microseconds, more on a busy machine).
   */
  run(name: KernelName, args: readonly number[], work: number): void {
    captureOf(this.heap)?.calls.push({ name, args: [...args], work });
    const f = this.exports[name];
    if (work < SHARED_WORK_MIN) f(...args, 0, 1);
    else this.pool.run(name, args, ONE_PART_PER_THREAD.has(name) ? this.threads : PARTS_PER_THREAD * this.threads, (part, parts) => f(...args, part, parts));
  }

  /**
   * Run `fn` (one kernel) while recording its WASM calls; returns a replay of just those calls,
   * or null when the kernel computed something in JavaScript (capture.ts).
   */
  capture(fn: () => void): { run(): void; dispose(): void } | null {
    const capture = capturing(this.heap, fn);
    const release = () => {
      for (const [offset, bytes] of capture.kept) this.heap.release(offset, bytes);
      capture.kept.length = 0;
    };
    if (capture.disqualified !== null || capture.calls.length === 0) {
      release();
      return null;
    }
    const calls = capture.calls as { name: KernelName; args: readonly number[]; work: number }[];
    return {
      run: () => {
        for (const c of calls) this.run(c.name, c.args, c.work);
      },
      dispose: release,
    };
  }

  /** Bytes [position, position + bytes) of the open file `fd` read into the heap at `dest`, on every thread at once (read-file.cjs). */
  readFile(fd: number, position: number, dest: number, bytes: number): void {
    const args = [fd, position % 2 ** 32 | 0, Math.floor(position / 2 ** 32), dest | 0, bytes | 0];
    const here = (part: number, parts: number) => readFilePart(this.heap.memory, args[0], args[1], args[2], args[3], args[4], part, parts);
    const parts = Math.min(PARTS_PER_THREAD * this.threads, Math.ceil(bytes / READ_PART_MIN_BYTES));
    if (parts <= 1) here(0, 1);
    else this.pool.run('read_file', args, parts, here);
  }

  close(): void {
    this.pool.close();
  }
}

const runtimes = new Map<string, WasmRuntime>();

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
 * kernels-relaxed.wasm compiled, or why not: not built, or this machine's relaxed SIMD differs
 * from x86's where the kernels depend on it. Node 20's V8 has relaxed SIMD behind a flag; setting
 * it here is safe (the flag only admits the instructions to modules compiled after it).
 */
function relaxedModule(): WebAssembly.Module | string {
  if (!fs.existsSync(RELAXED_WASM_PATH)) return `${RELAXED_WASM_PATH} is not built (it needs clang 16 or newer: apt-get install clang-19 lld-19, then npm run build:wasm)`;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const bytes = fs.readFileSync(RELAXED_WASM_PATH);
  if (!WebAssembly.validate(bytes)) return `this Node.js (${process.version}) does not run WebAssembly relaxed SIMD`;
  const module = new WebAssembly.Module(bytes);
  const probe = new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true }) } });
  if ((probe.exports.relaxed_simd_exact as () => number)() !== 1) return "this machine's relaxed SIMD rounds or widens differently from x86's (relaxed_simd_exact)";
  return module;
}

let relaxed: WebAssembly.Module | string | undefined;

/** Why kernels-relaxed.wasm cannot be used here, or null if it can. */
export function relaxedSimdUnavailable(): string | null {
  relaxed ??= relaxedModule();
  return typeof relaxed === 'string' ? relaxed : null;
}

/** The build of the kernels to use: LLAMASCOPE_WASM_SIMD, else 'relaxed' where it can run, else 'simd128'. */
export function defaultSimd(): WasmSimd {
  const env = process.env.LLAMASCOPE_WASM_SIMD;
  if (env === 'relaxed' || env === 'simd128') return env;
  if (env) throw new Error(`LLAMASCOPE_WASM_SIMD=${env} is not one of relaxed, simd128`);
  return relaxedSimdUnavailable() === null ? 'relaxed' : 'simd128';
}

/**
 * The process's WASM runtime with `threads` threads and the `simd` build (one per combination,
 * created on first use and kept: backends share it), or null when kernels.wasm has not been built.
 * Asking for 'relaxed' where it cannot run is an error that says why.
 */
export function loadWasmRuntime(threads: number, simd: WasmSimd = defaultSimd()): WasmRuntime | null {
  const key = `${simd}/${threads}`;
  const existing = runtimes.get(key);
  if (existing) return existing;
  let module: WebAssembly.Module;
  if (simd === 'relaxed') {
    const why = relaxedSimdUnavailable();
    if (why) throw new Error(`the relaxed-SIMD WASM kernels cannot run: ${why}. LLAMASCOPE_WASM_SIMD=simd128 uses the plain SIMD128 build.`);
    module = relaxed as WebAssembly.Module;
  } else {
    if (!fs.existsSync(WASM_PATH)) return null;
    module = new WebAssembly.Module(fs.readFileSync(WASM_PATH));
  }
  const runtime = new WasmRuntime(module, threads, simd);
  runtimes.set(key, runtime);
  return runtime;
}
