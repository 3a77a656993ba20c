// SiLU on the WASM fast path: in a fused elementwise expression, each silu of a dense input
// (SwiGLU's gate) is computed by c/silu-ggml*.c first and the expression then loads the result
// — ggml's silu (ggml_v_silu) bit for bit, as vSilu in ops/ggml-float.ts, without the JavaScript
// FMA emulation that made SwiGLU a tenth of a decode step.
import type { ElementwiseKernel, Expr } from '../../../tensor/backend';
import { View } from '../../../tensor/view';
import { GGML_SIMD } from '../ops/ggml-float';
import type { CpuBuffer } from '../buffer';
import type { WasmRuntime } from './runtime';

/**
 * `kernel` with every silu(load of a dense view) replaced by a load of its values computed here
 * (appended to `inputs`, in heap ranges from `take`), or `kernel` itself when there is none.
 */
export function siluOnWasm(rt: WasmRuntime, kernel: ElementwiseKernel, inputs: (Float32Array | Int32Array)[], take: (bytes: number) => number): ElementwiseKernel {
  const rewrite = (e: Expr): Expr => {
    if (e.kind !== 'op') return e;
    const [arg] = e.args;
    if (e.op === 'silu' && arg.kind === 'load' && arg.dtype === 'f32') {
      const source = kernel.inputs[arg.input] as CpuBuffer;
      if (source.heapOffset !== null && arg.view.isDense()) {
        const n = arg.view.size;
        const out = take(4 * n);
        rt.run('silu_ggml', [source.heapOffset + 4 * arg.view.offset, n, out, GGML_SIMD === 'avx512' ? 1 : 0], 64 * n);
        const input = inputs.push(rt.heap.f32(out, n)) - 1;
        return { kind: 'load', input, view: View.contiguous(arg.view.shape), dtype: 'f32' };
      }
    }
    const args = e.args.map(rewrite);
    return args.every((a, i) => a === e.args[i]) ? e : { ...e, args };
  };
  const expr = rewrite(kernel.expr);
  return expr === kernel.expr ? kernel : { ...kernel, expr };
}
