// Unary ops of fused elementwise expressions on the WASM fast path: each silu or roundF16 of a
// dense input is computed by a C kernel first, and the expression then loads the result. silu is
// ggml's (ggml_v_silu, c/silu-ggml*.c; vSilu in ops/ggml-float.ts) bit for bit, roundF16 is
// ggml's f32 -> f16 -> f32 (round_to_f16) — in JavaScript, silu's emulated FMAs made SwiGLU a tenth
// of a decode step, and the f16 rounding of the attention's inputs another few percent.
import type { ElementwiseKernel, Expr } from '../../../tensor/backend';
import type { ElementwiseOp } from '../../../tensor/ops';
import { View } from '../../../tensor/view';
import { GGML_SIMD } from '../ops/ggml-float';
import type { CpuBuffer } from '../buffer';
import type { WasmRuntime } from './runtime';

/** The C kernel for each op computed here: runs it on n values at heap offset x, into out. */
const KERNELS: Partial<Record<ElementwiseOp, (rt: WasmRuntime, x: number, n: number, out: number) => void>> = {
  silu: (rt, x, n, out) => rt.run('silu_ggml', [x, n, out, GGML_SIMD === 'avx512' ? 1 : 0], 64 * n),
  roundF16: (rt, x, n, out) => rt.run('round_to_f16', [x, n, out], 8 * n),
};

/** The heap address of a dense f32 load's first element, or null. */
function denseAddress(kernel: ElementwiseKernel, e: Expr): number | null {
  if (e.kind !== 'load' || e.dtype !== 'f32') return null;
  const source = kernel.inputs[e.input] as CpuBuffer;
  return source.heapOffset !== null && e.view.isDense() ? source.heapOffset + 4 * e.view.offset : null;
}

/**
 * Whether `kernel` is one silu / roundF16 of a dense load (the f16 rounding of K, V, q and the
 * attention pattern): then it is computed here straight into `out` (a heap address), and true.
 */
export function unaryIntoWasm(rt: WasmRuntime, kernel: ElementwiseKernel, out: number | null): boolean {
  const e = kernel.expr;
  if (out === null || e.kind !== 'op' || !KERNELS[e.op]) return false;
  const x = denseAddress(kernel, e.args[0]);
  if (x === null) return false;
  KERNELS[e.op]!(rt, x, (e.args[0] as Extract<Expr, { kind: 'load' }>).view.size, out);
  return true;
}

/**
 * `kernel` with every silu / roundF16 of a load of a dense view replaced by a load of its values
 * computed here (appended to `inputs`, in heap ranges from `take`), or `kernel` itself when there is none.
 */
export function unaryOnWasm(rt: WasmRuntime, kernel: ElementwiseKernel, inputs: (Float32Array | Int32Array)[], take: (bytes: number) => number): ElementwiseKernel {
  const rewrite = (e: Expr): Expr => {
    if (e.kind !== 'op') return e;
    const [arg] = e.args;
    const run = KERNELS[e.op];
    const x = run ? denseAddress(kernel, arg) : null;
    if (run && x !== null && arg.kind === 'load') {
      const n = arg.view.size;
      const out = take(4 * n);
      run(rt, x, n, out);
      const input = inputs.push(rt.heap.f32(out, n)) - 1;
      return { kind: 'load', input, view: View.contiguous(arg.view.shape), dtype: 'f32' };
    }
    const args = e.args.map(rewrite);
    return args.every((a, i) => a === e.args[i]) ? e : { ...e, args };
  };
  const expr = rewrite(kernel.expr);
  return expr === kernel.expr ? kernel : { ...kernel, expr };
}
