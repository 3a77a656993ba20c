// The CPU backend: TypeScript kernels on typed arrays — the reference every other backend is
// tested against — and, where built (scripts/build-wasm.mjs), a WASM SIMD fast path on worker
// threads for the ops that dominate inference. With the fast path every buffer lives in the WASM
// heap, so both kinds of kernel read and write the same memory without copies.
import type { Backend, DeviceBuffer, FileRange, Kernel, OpKernel, PreparedKernel } from '../../tensor/backend';
import { outOfMemoryError, type AllocationFailure } from '../../tensor/errors';
import { blockType, isComputeDType, type DType } from '../../tensor/dtype';
import { View, numel } from '../../tensor/view';
import { CpuBuffer, materialize } from './buffer';
import { runElementwise } from './elementwise';
import { reduce } from './ops/reduce';
import { matmul } from './ops/matmul';
import { linear } from './ops/linear';
import { rmsNorm } from './ops/rms-norm';
import { rope } from './ops/rope';
import { softmax } from './ops/softmax';
import { getRows } from './ops/get-rows';
import { concat } from './ops/concat';
import { HeapExhausted } from './wasm/heap';
import { HeapReclaimer } from './wasm/reclaim';
import { defaultSimd, defaultThreads, loadWasmRuntime, WASM_PATH, type WasmRuntime, type WasmSimd } from './wasm/runtime';
import { linearWasm } from './wasm/linear';
import { matmulGgmlWasm, matmulWasm, softmaxGgmlWasm } from './wasm/attention';
import { unaryIntoWasm, unaryOnWasm } from './wasm/unary';
import { withScratch } from './wasm/operands';
import { binaryIntoWasm } from './wasm/binary';
import { rmsNormWasm } from './wasm/rms-norm';
import { ropeWasm } from './wasm/rope';
import { computedInJavaScript } from './wasm/capture';

export interface CpuOptions {
  /** 'wasm': the WASM SIMD fast path (the default where built); 'reference': TypeScript kernels only. */
  kernels?: 'wasm' | 'reference';
  /** Threads of the fast path (default: LLAMASCOPE_THREADS, else every core). */
  threads?: number;
  /**
   * The fast path's build: 'relaxed' (x86's int8 dot product and FMA through WebAssembly relaxed
   * SIMD) or 'simd128'; both give the same bits. Default: LLAMASCOPE_WASM_SIMD, else 'relaxed'
   * where it is built and this machine passes its probe.
   */
  simd?: WasmSimd;
}

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly description: string;
  bytesInUse = 0;
  /** The fast path, or null (reference kernels only). */
  readonly wasm: WasmRuntime | null;
  /** Heap buffers nobody frees explicitly go back when their CpuBuffer becomes garbage. */
  private readonly reclaimer = new HeapReclaimer((offset, bytes) => this.releaseHeap(offset, bytes));

  constructor(options: CpuOptions = {}) {
    const env = process.env.LLAMASCOPE_CPU_KERNELS;
    if (env && env !== 'wasm' && env !== 'reference') throw new Error(`LLAMASCOPE_CPU_KERNELS=${env} is not one of wasm, reference`);
    const kernels = options.kernels ?? (env as CpuOptions['kernels']) ?? 'wasm';
    const threads = options.threads ?? defaultThreads();
    this.wasm = kernels === 'wasm' ? loadWasmRuntime(threads, options.simd ?? defaultSimd()) : null;
    if (kernels === 'wasm' && !this.wasm && (options.kernels || env)) {
      throw new Error(`the WASM CPU kernels are not built (${WASM_PATH} is missing): install clang and lld (Debian: apt-get install clang lld) and run \`npm run build:wasm\``);
    }
    const simdName = this.wasm?.simd === 'relaxed' ? 'relaxed SIMD' : 'SIMD';
    this.description = this.wasm ? `cpu (WASM ${simdName}, ${threads} thread${threads === 1 ? '' : 's'})` : 'cpu (TypeScript reference kernels)';
  }

  upload(data: Float32Array | Int32Array | Uint8Array, dtype: DType, length: number): DeviceBuffer {
    const buffer = this.allocateBytes(dtype, length, data.byteLength, data instanceof Uint8Array ? 'u8' : data instanceof Int32Array ? 'i32' : 'f32');
    buffer.data.set(data as never);
    return buffer;
  }

  uploadWith(dtype: DType, length: number, bytes: number, fill: (target: Uint8Array) => void, from?: FileRange): DeviceBuffer {
    const buffer = this.allocateBytes(dtype, length, bytes, dtype === 'i32' ? 'i32' : isComputeDType(dtype) ? 'f32' : 'u8');
    try {
      // A file straight into the heap on every thread (the page faults of new memory dominate).
      if (from && this.wasm && buffer.heapOffset !== null) this.wasm.readFile(from.fd, from.position, buffer.heapOffset, bytes);
      else fill(new Uint8Array(buffer.data.buffer, buffer.data.byteOffset, bytes));
    } catch (e) {
      this.free(buffer);
      throw e;
    }
    return buffer;
  }

  run(kernel: Kernel): DeviceBuffer {
    const length = numel(kernel.shape);
    const out = this.allocateBytes(kernel.dtype, length, 4 * length, kernel.dtype === 'i32' ? 'i32' : 'f32');
    try {
      this.runInto(kernel, out);
    } catch (e) {
      this.free(out);
      throw e;
    }
    return out;
  }

  runInto(kernel: Kernel, outBuffer: DeviceBuffer): void {
    const out = outBuffer as CpuBuffer;
    if (out.released) throw new Error('runInto: the output buffer was already freed');
    if (kernel.kind === 'elementwise') {
      const inputs = kernel.inputs.map((b) => (b as CpuBuffer).data as Float32Array | Int32Array);
      const wasm = this.wasm;
      if (wasm) {
        if (!unaryIntoWasm(wasm, kernel, out.heapOffset)) {
          withScratch(wasm.heap, (take) => {
            const rest = unaryOnWasm(wasm, kernel, inputs, take);
            if (binaryIntoWasm(wasm, rest, inputs, out.heapOffset)) return;
            computedInJavaScript(wasm.heap, 'a TypeScript elementwise kernel');
            runElementwise(rest, out.data as Float32Array | Int32Array, inputs);
          });
        }
      } else {
        runElementwise(kernel, out.data as Float32Array | Int32Array, inputs);
      }
    } else if (!this.runOpWasm(kernel, out)) {
      if (this.wasm) computedInJavaScript(this.wasm.heap, `the TypeScript ${kernel.args.op} kernel`);
      this.runOp(kernel, out);
    }
  }

  /**
   * `kernel` ready to run again into `out` (a Plan's replays): where it ran as WASM calls alone,
   * just those calls with the arguments worked out now (wasm/capture.ts); else runInto each time.
   * Runs the kernel once.
   */
  prepare(kernel: Kernel, out: DeviceBuffer): PreparedKernel {
    const again = () => this.runInto(kernel, out);
    const calls = this.wasm?.capture(again) ?? null;
    if (calls) return calls;
    if (!this.wasm) again();
    return { run: again, dispose: () => {} };
  }

  writeRowsInto(target: DeviceBuffer, source: DeviceBuffer, view: View, indices: DeviceBuffer, indicesView: View): void {
    const into = (target as CpuBuffer).data as Float32Array | Int32Array;
    const rows = view.shape[0];
    if (rows === 0) return;
    const rowSize = view.size / rows;
    const targetRows = into.length / rowSize;
    const at = materialize((indices as CpuBuffer).data as Int32Array, indicesView);
    // every index checked before anything is written: a failed write changes nothing
    at.forEach((row, i) => {
      if (!(row >= 0 && row < targetRows)) throw new RangeError(`writeRows: index ${row} (for row ${i}) is outside the target's ${targetRows} rows`);
    });
    const values = materialize((source as CpuBuffer).data as Float32Array | Int32Array, view);
    for (let i = 0; i < rows; i++) into.set(values.subarray(i * rowSize, (i + 1) * rowSize), at[i] * rowSize);
  }

  overwrite(buffer: DeviceBuffer, data: Float32Array | Int32Array): void {
    ((buffer as CpuBuffer).data as Float32Array | Int32Array).set(data);
  }

  writeInto(target: DeviceBuffer, offset: number, source: DeviceBuffer, view: View): void {
    const values = materialize((source as CpuBuffer).data as Float32Array | Int32Array, view);
    ((target as CpuBuffer).data as Float32Array | Int32Array).set(values, offset);
  }

  async read(buffer: DeviceBuffer, view: View): Promise<Float32Array | Int32Array> {
    const data = (buffer as CpuBuffer).data;
    if (data instanceof Uint8Array) throw new Error(`reading a ${buffer.dtype} buffer needs a cast to f32 first`);
    const values = materialize(data, view);
    return values === data ? data.slice() : values;
  }

  free(buffer: DeviceBuffer): void {
    const b = buffer as CpuBuffer;
    if (b.released) return;
    b.released = true;
    if (b.heapOffset === null) {
      this.bytesInUse -= b.bytes;
      return;
    }
    this.reclaimer.untrack(b.heapOffset);
    this.releaseHeap(b.heapOffset, b.bytes);
  }

  private releaseHeap(offset: number, bytes: number): void {
    this.bytesInUse -= bytes;
    this.wasm!.heap.release(offset, bytes);
  }

  private allocateBytes(dtype: DType, length: number, bytes: number, kind: 'f32' | 'i32' | 'u8'): CpuBuffer {
    let buffer: CpuBuffer;
    if (this.wasm) {
      const heap = this.wasm.heap;
      let offset: number;
      try {
        if (heap.wouldGrow(bytes)) this.reclaimer.beforeGrowth();
        offset = heap.allocate(bytes);
      } catch (e) {
        if (e instanceof HeapExhausted) {
          throw this.allocationError(dtype, length, bytes, {
            limit: { name: "wasm32's heap limit", bytes: 2 ** 32, perBuffer: bytes > 2 ** 32 },
            alsoTry: 'LLAMASCOPE_CPU_KERNELS=reference (TypeScript kernels on typed arrays outside that heap)',
          });
        }
        throw e;
      }
      const count = kind === 'u8' ? bytes : bytes / 4;
      const data = kind === 'u8' ? heap.u8(offset, count) : kind === 'i32' ? heap.i32(offset, count) : heap.f32(offset, count);
      buffer = new CpuBuffer(this, dtype, length, data, offset);
      this.reclaimer.track(buffer, offset, buffer.bytes);
    } else {
      try {
        buffer = new CpuBuffer(this, dtype, length, kind === 'u8' ? new Uint8Array(bytes) : kind === 'i32' ? new Int32Array(length) : new Float32Array(length));
      } catch (e) {
        // V8 refuses typed arrays past a fixed length, and allocations the process has no memory for.
        if (!(e instanceof RangeError)) throw e;
        const tooLong = /invalid typed array length/i.test(e.message);
        throw this.allocationError(dtype, length, bytes, { limit: tooLong ? { name: "V8's longest typed array", perBuffer: true } : undefined, reported: e.message });
      }
    }
    this.bytesInUse += buffer.bytes;
    return buffer;
  }

  private allocationError(dtype: DType, length: number, bytes: number, details: Partial<AllocationFailure>): Error {
    return outOfMemoryError({ device: this.description, what: `${length} ${dtype} values`, requestedBytes: bytes, heldBytes: this.bytesInUse, ...details });
  }

  /** Whether a WASM kernel applies to `k` and ran. */
  private runOpWasm(k: OpKernel, out: CpuBuffer): boolean {
    const rt = this.wasm;
    if (!rt) return false;
    const a = k.args;
    const input = (i: number) => k.inputs[i] as { buffer: CpuBuffer; view: View };
    switch (a.op) {
      case 'matmul':
        return a.ggml ? matmulGgmlWasm(rt, input(0), input(1), k.shape, a.ggml.innerPad, out) : matmulWasm(rt, input(0), input(1), k.shape, out);
      case 'linear':
        return linearWasm(rt, input(0), input(1), a.activationType, out);
      case 'rmsNorm':
        return rmsNormWasm(rt, input(0), k.shape[k.shape.length - 1], a.eps, out);
      case 'rope': {
        const { buffer, view } = input(1);
        return ropeWasm(rt, input(0), materialize(buffer.data as Int32Array, view) as Int32Array, k.shape, a, out);
      }
      case 'softmax':
        return a.ggml === true && softmaxGgmlWasm(rt, input(0), k.shape, a, out);
      default:
        return false;
    }
  }

  /** The TypeScript kernels: the definition of every op. */
  private runOp(k: OpKernel, outBuffer: CpuBuffer): void {
    const out = outBuffer.data as Float32Array | Int32Array;
    const values = (i: number) => {
      const { buffer, view } = k.inputs[i];
      return materialize((buffer as CpuBuffer).data as Float32Array | Int32Array, view);
    };
    const a = k.args;
    switch (a.op) {
      case 'sum':
      case 'max':
      case 'min':
      case 'argmax':
        return reduce(a.op, values(0), k.inputs[0].view.shape, a.axis, out);
      case 'matmul': {
        const [x, y] = [k.inputs[0].view, k.inputs[1].view];
        const batchShape = k.shape.slice(0, -2);
        const m = x.shape[x.rank - 2], inner = x.shape[x.rank - 1], n = y.shape[y.rank - 1];
        const expandTo = (v: View, rows: number, cols: number) => v.expand([...batchShape, rows, cols]);
        const A = materialize((k.inputs[0].buffer as CpuBuffer).data as Float32Array, expandTo(x, m, inner));
        const B = materialize((k.inputs[1].buffer as CpuBuffer).data as Float32Array, expandTo(y, inner, n));
        return matmul(A, B, numel(batchShape), m, inner, n, out as Float32Array, a.ggml);
      }
      case 'linear': {
        const w = k.inputs[1] as { buffer: CpuBuffer; view: View };
        const x = values(0) as Float32Array;
        const width = w.view.shape[1];
        const type = isComputeDType(w.buffer.dtype) ? null : blockType(w.buffer.dtype);
        const wData = type ? (w.buffer.data as Uint8Array) : (materialize(w.buffer.data as Float32Array, w.view) as Float32Array);
        return linear(x, x.length / width, width, wData, type, w.view.shape[0], a.activationType, out as Float32Array);
      }
      case 'rmsNorm':
        return rmsNorm(values(0) as Float32Array, k.shape[k.shape.length - 1], a.eps, out as Float32Array);
      case 'rope':
        return rope(values(0) as Float32Array, k.shape, values(1) as Int32Array, a, out as Float32Array);
      case 'softmax':
        return softmax(values(0) as Float32Array, k.shape, a, out as Float32Array);
      case 'getRows': {
        const table = k.inputs[0];
        const type = isComputeDType(table.buffer.dtype) ? null : blockType(table.buffer.dtype);
        const data = type ? ((table.buffer as CpuBuffer).data as Uint8Array) : (values(0) as Float32Array);
        return getRows(data, type, table.view.shape[0], table.view.shape[1], values(1) as Int32Array, out as Float32Array);
      }
      case 'concat':
        return concat(k.inputs.map((_, i) => values(i)), k.inputs.map((x) => x.view.shape), a.axis, out);
      default:
        throw new Error(`the CPU backend has no kernel for ${a.op}`);
    }
  }
}
