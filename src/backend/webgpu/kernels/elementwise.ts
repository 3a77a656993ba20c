// Fused elementwise kernels: the scheduler's expression tree becomes one WGSL kernel (cached by the
// expression's shape: which ops, which loads from which inputs, the rank; never by sizes, strides
// or constant values, which are parameters). Values are computed in their own type: i32 stays
// integer (copies and index arithmetic are exact), f32 ops on i32 inputs compute in f32 and
// truncate as the CPU reference's Int32Array store does.
import type { ElementwiseKernel, Expr } from '../../../tensor/backend';
import type { ElementwiseOp } from '../../../tensor/ops';
import { numel, View } from '../../../tensor/view';
import type { KernelContext } from '../context';
import { byteWindow, type GpuBuffer, viewRange } from '../gpu-buffer';
import { wgsl } from '../shaders';
import { f32Bits } from './bits';

type ValueType = 'f32' | 'i32';

interface Typed {
  code: string;
  type: ValueType;
}

interface Load {
  input: number;
  view: View;
}

const F32_FUNCTIONS: Partial<Record<ElementwiseOp, (a: string) => string>> = {
  exp: (a) => `exp(${a})`,
  log: (a) => `log(${a})`,
  sqrt: (a) => `sqrt(${a})`,
  rsqrt: (a) => `(1.0 / sqrt(${a}))`,
  recip: (a) => `(1.0 / ${a})`,
  silu: (a) => `silu(${a})`,
  gelu: (a) => `gelu(${a})`,
  tanh: (a) => `tanh_safe(${a})`,
  roundF16: (a) => `f16_round(${a})`,
};

const OPERATORS: Partial<Record<ElementwiseOp, string>> = { add: '+', sub: '-', mul: '*' };
const COMPARISONS: Partial<Record<ElementwiseOp, string>> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };

export function runElementwise(ctx: KernelContext, kernel: ElementwiseKernel, out: GpuBuffer): void {
  const inputTypes = kernel.inputs.map((b) => b.dtype as ValueType);
  const loads: Load[] = [];
  const constants: number[] = [];
  const value = as(emit(kernel.expr, loads, constants, inputTypes), kernel.dtype as ValueType).code;
  const rank = kernel.shape.length;
  const count = numel(kernel.shape);
  if (kernel.inputs.length + 1 > ctx.caps.maxStorageBuffersPerStage) {
    throw new Error(`a fused kernel reads ${kernel.inputs.length} tensors; this device binds at most ${ctx.caps.maxStorageBuffersPerStage - 1}: realize part of the expression first`);
  }

  // One binding per input buffer, covering what all of its loads read.
  const shifts: number[] = [];
  const bindings: GPUBufferBinding[] = [ctx.whole(out)];
  kernel.inputs.forEach((buffer, index) => {
    const mine = loads.filter((l) => l.input === index);
    const lo = Math.min(...mine.map((l) => viewRange(l.view)[0]));
    const hi = Math.max(...mine.map((l) => viewRange(l.view)[1]));
    const w = byteWindow(buffer as GpuBuffer, lo * 4, (hi + 1) * 4, ctx.caps.storageAlign, ctx.caps.maxBindingBytes);
    if (!w) throw ctx.tooLarge((hi + 1 - lo) * 4);
    bindings.push(w.binding);
    shifts.push(w.shift / 4 - lo);
  });

  const words: number[] = [count, ...kernel.shape];
  const body: string[] = [];
  if (rank > 0) {
    body.push('  var rest = i;');
    for (let d = rank - 1; d > 0; d--) body.push(`  let i${d} = rest % param(${1 + d}u);`, `  rest = rest / param(${1 + d}u);`);
    body.push('  let i0 = rest;');
  }
  loads.forEach((l, k) => {
    const base = words.length;
    words.push(l.view.offset + shifts[l.input], ...l.view.strides);
    const terms = [`param(${base}u)`, ...kernel.shape.map((_, d) => `i${d} * param(${base + 1 + d}u)`)];
    body.push(`  let l${k} = in${l.input}[${terms.join(' + ')}];`);
  });
  constants.forEach((c, j) => {
    body.push(`  let c${j} = bitcast<f32>(param(${words.length}u));`);
    words.push(f32Bits(c));
  });
  body.push(`  out[i] = ${value};`);

  const wg = ctx.caps.workgroupSize;
  const key = `elementwise|${rank}|${kernel.dtype}|${inputTypes.join(',')}|${loads.map((l) => l.input).join(',')}|${value}`;
  const pipeline = ctx.pipelines.get(key, () =>
    wgsl('kernels/elementwise.wgsl', {
      WG: wg,
      PARAM_VEC4S: Math.ceil(words.length / 4),
      OUT_TYPE: kernel.dtype,
      INPUT_BINDINGS: inputTypes.map((t, k) => `@group(0) @binding(${k + 2}) var<storage, read> in${k}: array<${t}>;`).join('\n'),
      BODY: body.join('\n'),
    }),
  );
  const params = new Uint32Array(Math.ceil(words.length / 4) * 4);
  params.set(words);
  ctx.dispatch(pipeline, params, bindings, Math.ceil(count / wg));
}

/** A dense row-major copy of the elements `view` reads, converted to `dtype` (f32 <-> i32 as the CPU converts). */
export function copyToDense(ctx: KernelContext, buffer: GpuBuffer, view: View, dtype = buffer.dtype as ValueType): GpuBuffer {
  const from = buffer.dtype as ValueType;
  const op = from === dtype ? 'copy' : dtype === 'f32' ? 'castF32' : 'castI32';
  const out = ctx.output(dtype, view.size, view.size * 4);
  runElementwise(ctx, { kind: 'elementwise', expr: { kind: 'op', op, args: [{ kind: 'load', input: 0, view, dtype: from }] }, inputs: [buffer], shape: view.shape, dtype }, out);
  return out;
}

function emit(e: Expr, loads: Load[], constants: number[], inputTypes: ValueType[]): Typed {
  switch (e.kind) {
    case 'load':
      return { code: `l${loads.push({ input: e.input, view: e.view }) - 1}`, type: inputTypes[e.input] };
    case 'const':
      return { code: `c${constants.push(e.value) - 1}`, type: 'f32' };
    case 'op':
      return emitOp(e.op, e.args.map((a) => emit(a, loads, constants, inputTypes)));
  }
}

function emitOp(op: ElementwiseOp, args: Typed[]): Typed {
  const [a, b, c] = args;
  const f32Function = F32_FUNCTIONS[op];
  if (f32Function) return as({ code: f32Function(asF32(a)), type: 'f32' }, a.type);
  switch (op) {
    case 'neg':
      return { code: `(-${a.code})`, type: a.type };
    case 'abs':
      return { code: `abs(${a.code})`, type: a.type };
    case 'copy':
      return a;
    case 'castF32':
      return { code: asF32(a), type: 'f32' };
    case 'castI32':
      return as(a, 'i32');
    case 'where': {
      const cond = a.type === 'i32' ? `${a.code} != 0` : `${a.code} != 0.0`;
      const [x, y] = b.type === c.type ? [b.code, c.code] : [asF32(b), asF32(c)];
      return { code: `select(${y}, ${x}, ${cond})`, type: b.type === c.type ? b.type : 'f32' };
    }
  }
  const integer = a.type === 'i32' && b.type === 'i32';
  const [x, y] = integer ? [a.code, b.code] : [asF32(a), asF32(b)];
  const comparison = COMPARISONS[op];
  if (comparison) return { code: `select(0.0, 1.0, ${x} ${comparison} ${y})`, type: 'f32' };
  const type: ValueType = integer ? 'i32' : 'f32';
  const operator = OPERATORS[op];
  if (operator) return { code: `(${x} ${operator} ${y})`, type };
  switch (op) {
    case 'div':
      return { code: integer ? `div_i32(${x}, ${y})` : `(${x} / ${y})`, type };
    case 'maximum':
      return { code: `max(${x}, ${y})`, type };
    case 'minimum':
      return { code: `min(${x}, ${y})`, type };
    case 'pow':
      return as({ code: `pow_js(${asF32(a)}, ${asF32(b)})`, type: 'f32' }, type);
    default:
      throw new Error(`the WebGPU backend has no elementwise kernel for ${op}`);
  }
}

function asF32(t: Typed): string {
  return t.type === 'f32' ? t.code : `f32(${t.code})`;
}

/** `t` as `type`: f32 -> i32 truncates toward zero, as storing into an Int32Array does. */
function as(t: Typed, type: ValueType): Typed {
  if (t.type === type) return t;
  return { code: `${type}(${t.code})`, type };
}
