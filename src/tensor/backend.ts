// What a backend provides: device buffers and kernels for every op of ops.ts.
// Kernels are queued synchronously (the CPU runs them at once; WebGPU encodes them) and results
// come back asynchronously through `read`.

import type { ComputeDType, DType } from './dtype';
import type { ElementwiseOp, OpArgs } from './ops';
import type { Shape, View } from './view';

/** Where in an open file the bytes an upload's `fill` writes come from (a backend may read them itself, e.g. on several threads). */
export interface FileRange {
  fd: number;
  position: number;
}

export interface DeviceBuffer {
  readonly backend: Backend;
  readonly dtype: DType;
  /** Elements (block dtypes: values, a whole number of blocks). */
  readonly length: number;
  readonly bytes: number;
}

/** A fused elementwise computation: an expression over loads from input buffers. */
export type Expr =
  | { kind: 'load'; input: number; view: View; dtype: ComputeDType }
  | { kind: 'const'; value: number }
  | { kind: 'op'; op: ElementwiseOp; args: Expr[] };

export interface ElementwiseKernel {
  kind: 'elementwise';
  expr: Expr;
  inputs: DeviceBuffer[];
  shape: Shape;
  dtype: ComputeDType;
}

/** Any other op: its inputs as buffers seen through views (backends copy to contiguous if they must). */
export interface OpKernel {
  kind: 'op';
  args: OpArgs;
  inputs: { buffer: DeviceBuffer; view: View }[];
  shape: Shape;
  dtype: DType;
}

export type Kernel = ElementwiseKernel | OpKernel;

/** A kernel made ready to run again into the same output (Backend.prepare). */
export interface PreparedKernel {
  run(): void;
  /** Release what the preparation holds (not the kernel's buffers). */
  dispose(): void;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** e.g. "cpu (2 threads)" or "webgpu: llvmpipe (Mesa 25.0.7) via Vulkan". */
  readonly description: string;
  /** Bytes held in live device buffers. */
  readonly bytesInUse: number;
  /** Copy host data to a new device buffer (f32/i32 arrays, or raw GGUF blocks for block dtypes). */
  upload(data: Float32Array | Int32Array | Uint8Array, dtype: DType, length: number): DeviceBuffer;
  /**
   * A new buffer of `bytes` bytes that `fill` writes straight into (a file read into the device's
   * memory without a staging copy), where the backend can; otherwise callers use `upload`.
   */
  uploadWith?(dtype: DType, length: number, bytes: number, fill: (target: Uint8Array) => void, from?: FileRange): DeviceBuffer;
  /** Run one kernel into a new buffer. */
  run(kernel: Kernel): DeviceBuffer;
  /** Run one kernel again into `out`, the buffer an earlier `run` of it returned (a plan's replay). */
  runInto(kernel: Kernel, out: DeviceBuffer): void;
  /**
   * Run `kernel` into `out` as runInto does, and return it prepared for running so again, with
   * whatever can be worked out once done now (where a backend has nothing to prepare, omit this:
   * plans use runInto).
   */
  prepare?(kernel: Kernel, out: DeviceBuffer): PreparedKernel;
  /** Copy the elements of `view` over `source` (row-major) into `target` from element `offset` on. */
  writeInto(target: DeviceBuffer, offset: number, source: DeviceBuffer, view: View): void;
  /**
   * Copy row i of `view` over `source` (rows along its first axis) over row `indices[i]` of
   * `target` (rows of the same size), the indices being the i32 elements of `indicesView`.
   */
  writeRowsInto(target: DeviceBuffer, source: DeviceBuffer, view: View, indices: DeviceBuffer, indicesView: View): void;
  /** Replace every element of an f32/i32 buffer with `data` (as many values), in queue order. */
  overwrite(buffer: DeviceBuffer, data: Float32Array | Int32Array): void;
  /** The elements of `view` over `buffer`, in row-major order. */
  read(buffer: DeviceBuffer, view: View): Promise<Float32Array | Int32Array>;
  free(buffer: DeviceBuffer): void;
}
