// RMSNorm on the WASM fast path (c/rms-norm.c): the reference's rounding (ops/rms-norm.ts), the same bits.
import { f32Bits } from '../../../quant/half';
import type { CpuBuffer } from '../buffer';
import type { WasmRuntime } from './runtime';
import { f32Address, withScratch, type Operand } from './operands';

export function rmsNormWasm(rt: WasmRuntime, x: Operand, width: number, eps: number, out: CpuBuffer): boolean {
  if (out.heapOffset === null) return false;
  return withScratch(rt.heap, (take) => {
    const size = x.view.size;
    rt.run('rms_norm_f32', [f32Address(rt.heap, x, take), size / width, width, f32Bits(eps) | 0, out.heapOffset!], 8 * size);
    return true;
  });
}
