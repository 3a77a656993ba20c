// Fused elementwise kernels for the CPU: each expression tree becomes one JavaScript function
// (compiled once per expression shape and cached) with nested loops over the output and one
// running offset per load, so views cost nothing and intermediates are never stored.
import type { ElementwiseKernel, Expr } from '../../tensor/backend';
import type { ElementwiseOp } from '../../tensor/ops';
import { F16_TO_F32, f32ToF16 } from '../../quant/half';
import { vSilu } from './ops/ggml-float';

type Compiled = (
  out: Float32Array | Int32Array,
  inputs: (Float32Array | Int32Array)[],
  shape: readonly number[],
  loads: LoadLayout[],
  lib: typeof LIB,
) => void;

/** Helpers generated code may call (as `lib.name`). */
const LIB = {
  roundF16: (x: number) => F16_TO_F32[f32ToF16(x)],
  silu: vSilu,
};

interface LoadLayout {
  input: number;
  offset: number;
  strides: readonly number[];
}

/** JavaScript for each op, on already-evaluated operands a, b, c (computed in float64). */
const OP_SOURCE: Record<ElementwiseOp, (a: string, b: string, c: string) => string> = {
  neg: (a) => `-${a}`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  rsqrt: (a) => `1 / Math.sqrt(${a})`,
  recip: (a) => `1 / ${a}`,
  abs: (a) => `Math.abs(${a})`,
  // silu is ggml's float32 silu (ggml_v_silu, ggml-cpu/vec.h: x / (1 + vectorized expf(-x))),
  // within 2 ulp of x / (1 + e^-x): llama.cpp's SwiGLU multiplies exactly this by up (ulp-level
  // differences there flip the int8 rounding of ffn_down's quantized input in llama.cpp mode).
  silu: (a) => `lib.silu(${a})`,
  // ggml's GELU: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
  gelu: (a) => `0.5 * ${a} * (1 + Math.tanh(0.7978845608028654 * (${a} + 0.044715 * ${a} * ${a} * ${a})))`,
  tanh: (a) => `Math.tanh(${a})`,
  roundF16: (a) => `lib.roundF16(${a})`,
  copy: (a) => a,
  castF32: (a) => a,
  castI32: (a) => `Math.trunc(${a})`,
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  pow: (a, b) => `Math.pow(${a}, ${b})`,
  maximum: (a, b) => `Math.max(${a}, ${b})`,
  minimum: (a, b) => `Math.min(${a}, ${b})`,
  lt: (a, b) => `(${a} < ${b} ? 1 : 0)`,
  le: (a, b) => `(${a} <= ${b} ? 1 : 0)`,
  gt: (a, b) => `(${a} > ${b} ? 1 : 0)`,
  ge: (a, b) => `(${a} >= ${b} ? 1 : 0)`,
  eq: (a, b) => `(${a} === ${b} ? 1 : 0)`,
  ne: (a, b) => `(${a} !== ${b} ? 1 : 0)`,
  where: (a, b, c) => `(${a} !== 0 ? ${b} : ${c})`,
};

const cache = new Map<string, Compiled>();

export function runElementwise(kernel: ElementwiseKernel, out: Float32Array | Int32Array, inputs: (Float32Array | Int32Array)[]): void {
  const loads: LoadLayout[] = [];
  const body = emit(kernel.expr, loads);
  const rank = kernel.shape.length;
  const key = `${rank}|${loads.map((l) => l.input).join(',')}|${body}`;
  let fn = cache.get(key);
  if (!fn) {
    fn = compile(rank, loads.length, body);
    cache.set(key, fn);
  }
  fn(out, inputs, kernel.shape, loads, LIB);
}

/** Expression source; loads are numbered in visit order and read `in_k[o_k]`. */
function emit(e: Expr, loads: LoadLayout[]): string {
  switch (e.kind) {
    case 'const':
      return `(${Number.isFinite(e.value) ? e.value : e.value > 0 ? 'Infinity' : e.value < 0 ? '-Infinity' : 'NaN'})`;
    case 'load': {
      const k = loads.push({ input: e.input, offset: e.view.offset, strides: e.view.strides }) - 1;
      return `in${k}[o${k}]`;
    }
    case 'op': {
      const [a, b, c] = e.args.map((x) => `(${emit(x, loads)})`);
      return OP_SOURCE[e.op](a, b, c);
    }
  }
}

function compile(rank: number, nLoads: number, body: string): Compiled {
  const L = Array.from({ length: nLoads }, (_, k) => k);
  const lines: string[] = [];
  lines.push(...L.map((k) => `const in${k} = inputs[loads[${k}].input];`));
  // every stride a local constant: read from the strides array inside the loops, V8 reloads it per element
  for (const k of L) for (let d = 0; d < rank; d++) lines.push(`const st${k}_${d} = loads[${k}].strides[${d}];`);
  if (rank === 0) {
    lines.push(...L.map((k) => `const o${k} = loads[${k}].offset;`));
    lines.push(`out[0] = ${body};`);
  } else {
    lines.push(`let i = 0;`);
    lines.push(...L.map((k) => `let b${k}_0 = loads[${k}].offset;`));
    for (let d = 0; d < rank; d++) {
      const inner = d === rank - 1;
      lines.push(`for (let i${d} = 0, n${d} = shape[${d}]; i${d} < n${d}; i${d}++) {`);
      if (inner) {
        lines.push(...L.map((k) => `const o${k} = b${k}_${d} + i${d} * st${k}_${d};`));
        lines.push(`out[i++] = ${body};`);
      } else {
        lines.push(...L.map((k) => `const b${k}_${d + 1} = b${k}_${d} + i${d} * st${k}_${d};`));
      }
    }
    for (let d = 0; d < rank; d++) lines.push('}');
  }
  return new Function('out', 'inputs', 'shape', 'loads', 'lib', lines.join('\n')) as Compiled;
}
