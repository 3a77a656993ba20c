// The commonest fused elementwise kernels on the WASM fast path: a + b, a - b or a * b of two
// float32 loads (c/binary-f32.c), each load either dense or one row broadcast to every row — the
// residual adds, RMSNorm's weight, SwiGLU's product once unary.ts has computed its SiLU. In a
// TinyLlama decode step the JavaScript kernels took 30-90 µs per call of 2048-5632 values.
import type { ElementwiseKernel, Expr } from '../../../tensor/backend';
import type { View } from '../../../tensor/view';
import type { CpuBuffer } from '../buffer';
import type { WasmRuntime } from './runtime';

const OPS: Partial<Record<string, number>> = { add: 0, sub: 1, mul: 2 };

/** Elements between one row of the load and the next (its width, or 0 for a broadcast row), or null. */
function rowStride(view: View, cols: number): number | null {
  if (view.isDense()) return cols;
  const last = view.rank - 1;
  const broadcastRow = (cols === 1 || view.strides[last] === 1) && view.strides.every((s, d) => d === last || s === 0 || view.shape[d] === 1);
  return broadcastRow ? 0 : null;
}

/**
 * Whether `kernel` is one add, sub or mul of two float32 loads in row layouts binary_f32 reads:
 * then it runs here into `out` (a heap address), and true. `inputs` are the kernel's inputs as
 * arrays in the heap (any past kernel.inputs were appended by unaryOnWasm).
 */
export function binaryIntoWasm(rt: WasmRuntime, kernel: ElementwiseKernel, inputs: readonly (Float32Array | Int32Array)[], out: number | null): boolean {
  const e = kernel.expr;
  const op = e.kind === 'op' ? OPS[e.op] : undefined;
  if (out === null || kernel.dtype !== 'f32' || op === undefined || e.kind !== 'op') return false;
  const cols = kernel.shape.length > 0 ? kernel.shape[kernel.shape.length - 1] : 1;
  const n = kernel.shape.reduce((p, d) => p * d, 1);
  const operand = (arg: Expr): [number, number] | null => {
    if (arg.kind !== 'load' || arg.dtype !== 'f32') return null;
    const original = kernel.inputs[arg.input] as CpuBuffer | undefined;
    const base = original ? original.heapOffset : inputs[arg.input].byteOffset;
    const stride = rowStride(arg.view, cols);
    return base === null || stride === null ? null : [base + 4 * arg.view.offset, stride];
  };
  const a = operand(e.args[0]);
  const b = a && operand(e.args[1]);
  if (!a || !b || cols === 0) return false;
  rt.run('binary_f32', [op, a[0], a[1], b[0], b[1], n / cols, cols, out], 12 * n);
  return true;
}
