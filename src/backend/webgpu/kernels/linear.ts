// y = x W^T for a weight [out, in] of any dtype, read in its blocks (never expanded to f32):
//   - up to 8 activation rows (decoding): linear-vector.wgsl, one workgroup per output feature;
//     with Q8 activations and an integer-code weight type, linear-q8.wgsl (int8 dot products);
//   - more rows (prompts): linear-tiled.wgsl, 64 x 64 output tiles with the weights decoded once
//     per tile into shared memory.
// llama.cpp emulation (activationType) first rounds the activations through their type, exactly as
// the CPU reference does; the results then differ from it only by float32 summation order.
// Weights larger than one storage binding are processed in windows of whole rows.
import type { OpKernel } from '../../../tensor/backend';
import type { KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { decoderFor, decoderTemplate, type Decoder } from '../blocks/decoders';
import { wgsl } from '../shaders';
import { copyToDense } from './elementwise';
import { reductionTemplate } from './reductions';
import { rowWindows, type RowWindow } from './weight-windows';

/** Activation rows one matrix-vector dispatch handles (its accumulators live in registers). */
const VECTOR_MAX_TOKENS = 8;
/** Threads per output feature in the matrix-vector kernels: rows of 2048 values are 512 quads. */
const VECTOR_WG = 64;
const TILED_WG = 256;

interface ActivationPlan {
  /** Kernel KIND of quantize-activations.wgsl / round-activations.wgsl. */
  kind: number;
  /** Values per activation block. */
  block: number;
  /** Q8 types: the integer path can use the codes directly. */
  q8: boolean;
}

const ACTIVATIONS: Record<string, ActivationPlan> = {
  Q8_0: { kind: 0, block: 32, q8: true },
  Q8_1: { kind: 0, block: 32, q8: true },
  Q8_K: { kind: 1, block: 256, q8: true },
  F16: { kind: 2, block: 1, q8: false },
  BF16: { kind: 3, block: 1, q8: false },
};

export function runLinear(ctx: KernelContext, k: OpKernel, activationType: string | null, out: GpuBuffer): void {
  const [xInput, wInput] = k.inputs;
  const [outFeatures, width] = wInput.view.shape;
  const tokens = xInput.view.size / width;
  const temps: GpuBuffer[] = [];
  try {
    let weight = wInput.buffer as GpuBuffer;
    let baseByte = 0;
    if (weight.dtype === 'f32') {
      if (wInput.view.isDense()) baseByte = wInput.view.offset * 4;
      else temps.push((weight = copyToDense(ctx, weight, wInput.view)));
    }
    const decoder = decoderFor(weight.dtype, ctx.caps, width % 4 === 0 && baseByte % 8 === 0 && ctx.caps.storageAlign % 8 === 0);
    const windows = rowWindows(weight, baseByte, outFeatures, decoder.rowBytes(width), ctx.caps);
    const x = ctx.dense(xInput.buffer as GpuBuffer, xInput.view, 'f32');
    if (x.temp) temps.push(x.temp);
    if (tokens === 0 || outFeatures === 0) return;

    const plan = activationPlan(activationType, width);
    const shape: Shape = { tokens, width, outFeatures, rowBytes: decoder.rowBytes(width) };
    // Activations are quantized or rounded once per input and kind, then shared by every linear
    // that reads the same input (q, k and v; gate and up).
    const xSource = x.temp ?? (xInput.buffer as GpuBuffer);
    const xKey = `${plan?.kind}|${plan?.block}|${x.binding.offset ?? 0}|${x.offset}|${tokens}|${width}`;
    if (plan?.q8 && decoder.integerCodes && tokens <= VECTOR_MAX_TOKENS) {
      const [codes, scales] = ctx.derived(xSource, `q8|${xKey}`, () => quantizeActivations(ctx, plan, shape, x.binding, x.offset));
      return integerVector(ctx, decoder, plan, shape, codes, scales, windows, out);
    }
    let xBinding = x.binding;
    let xOffset = x.offset;
    if (plan) {
      const [rounded] = ctx.derived(xSource, `rounded|${xKey}`, () => [roundActivations(ctx, plan, shape, x.binding, x.offset)]);
      xBinding = { buffer: rounded.gpu };
      xOffset = 0;
    }
    if (tokens <= VECTOR_MAX_TOKENS || ctx.caps.workgroupSize < TILED_WG) floatVector(ctx, decoder, shape, xBinding, xOffset, windows, out);
    else floatTiled(ctx, decoder, shape, xBinding, xOffset, windows, out);
  } finally {
    for (const t of temps) ctx.free(t);
  }
}

interface Shape {
  tokens: number;
  width: number;
  outFeatures: number;
  rowBytes: number;
}

function activationPlan(type: string | null, width: number): ActivationPlan | null {
  if (type === null || type.toUpperCase() === 'F32') return null;
  const plan = ACTIVATIONS[type.toUpperCase()];
  if (!plan) throw new Error(`activationType ${type} is not supported by the WebGPU backend (it rounds activations through ${Object.keys(ACTIVATIONS).join(', ')}); use the CPU backend for others`);
  if (width % plan.block !== 0) throw new Error(`activation rows of ${width} are not whole ${type} blocks`);
  return plan;
}

function floatVector(ctx: KernelContext, decoder: Decoder, s: Shape, x: GPUBufferBinding, xOffset: number, windows: RowWindow[], out: GpuBuffer): void {
  const wg = Math.min(VECTOR_WG, ctx.caps.workgroupSize);
  for (let t0 = 0; t0 < s.tokens; t0 += VECTOR_MAX_TOKENS) {
    const tokens = Math.min(VECTOR_MAX_TOKENS, s.tokens - t0);
    const pipeline = ctx.pipelines.get(`linearVector|${decoder.file}|${tokens}|${ctx.caps.subgroups}|${ctx.caps.packedDot}`, () => {
      const r = reductionTemplate(ctx.caps, wg);
      const d = decoderTemplate(decoder, ctx.caps, 3);
      return wgsl('kernels/linear-vector.wgsl', { WG: wg, TOKENS: tokens, DECODER: decoder.file, ...r.values, ...d.values }, d.prelude + r.prelude);
    });
    for (const w of windows) {
      const params = Uint32Array.of(s.width, s.outFeatures, t0 * s.outFeatures, xOffset + t0 * s.width, w.firstRow, w.rows, s.rowBytes, w.shift);
      ctx.dispatch(pipeline, params, [ctx.whole(out), x, w.binding], w.rows);
    }
  }
}

function floatTiled(ctx: KernelContext, decoder: Decoder, s: Shape, x: GPUBufferBinding, xOffset: number, windows: RowWindow[], out: GpuBuffer): void {
  const wholeQuads = s.width % 4 === 0;
  const pipeline = ctx.pipelines.get(`linearTiled|${decoder.file}|${wholeQuads}|${ctx.caps.packedDot}`, () => {
    const d = decoderTemplate(decoder, ctx.caps, 3);
    return wgsl('kernels/linear-tiled.wgsl', { DECODER: decoder.file, WHOLE_QUADS: wholeQuads, ...d.values }, d.prelude);
  });
  for (const w of windows) {
    const params = Uint32Array.of(s.tokens, s.width, s.outFeatures, xOffset, w.firstRow, w.rows, s.rowBytes, w.shift);
    ctx.dispatch(pipeline, params, [ctx.whole(out), x, w.binding], Math.ceil(s.tokens / 64) * Math.ceil(w.rows / 64));
  }
}

function integerVector(ctx: KernelContext, decoder: Decoder, plan: ActivationPlan, s: Shape, codes: GpuBuffer, scales: GpuBuffer, windows: RowWindow[], out: GpuBuffer): void {
  const vwg = Math.min(VECTOR_WG, ctx.caps.workgroupSize);
  const pipeline = ctx.pipelines.get(`linearQ8|${decoder.file}|${s.tokens}|${plan.block}|${ctx.caps.subgroups}|${ctx.caps.packedDot}`, () => {
    const r = reductionTemplate(ctx.caps, vwg);
    const d = decoderTemplate(decoder, ctx.caps, 3);
    const dot = ctx.caps.packedDot ? 'return dot4I8Packed(a, b);' : 'return dot(unpack_codes(a), unpack_codes(b));';
    return wgsl('kernels/linear-q8.wgsl', { WG: vwg, TOKENS: s.tokens, ACT_BLOCK: plan.block, DECODER: decoder.file, DOT_CODES: dot, ...r.values, ...d.values }, d.prelude + r.prelude);
  });
  for (const w of windows) {
    const params = Uint32Array.of(s.width, s.outFeatures, w.firstRow, w.rows, s.rowBytes, w.shift);
    ctx.dispatch(pipeline, params, [ctx.whole(out), ctx.whole(codes), w.binding, ctx.whole(scales)], w.rows);
  }
}

/** The activation rows as Q8 codes (four to a word) and one scale per block. */
function quantizeActivations(ctx: KernelContext, plan: ActivationPlan, s: Shape, x: GPUBufferBinding, xOffset: number): GpuBuffer[] {
  const quads = s.width / 4;
  const blocks = s.width / plan.block;
  const codes = ctx.output('i32', s.tokens * quads, s.tokens * quads * 4);
  const scales = ctx.output('f32', s.tokens * blocks, s.tokens * blocks * 4);
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get(`quantizeActivations|${plan.kind}|${plan.block}`, () =>
    wgsl('kernels/quantize-activations.wgsl', { WG: wg, KIND: plan.kind, ACT_BLOCK: plan.block }),
  );
  ctx.dispatch(pipeline, Uint32Array.of(s.tokens, s.width, xOffset), [ctx.whole(codes), ctx.whole(scales), x], Math.ceil((s.tokens * blocks) / wg));
  return [codes, scales];
}

function roundActivations(ctx: KernelContext, plan: ActivationPlan, s: Shape, x: GPUBufferBinding, xOffset: number): GpuBuffer {
  const n = s.tokens * s.width;
  const rounded = ctx.output('f32', n, n * 4);
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get(`roundActivations|${plan.kind}|${plan.block}`, () =>
    wgsl('kernels/round-activations.wgsl', { WG: wg, KIND: plan.kind, ACT_BLOCK: plan.block }),
  );
  ctx.dispatch(pipeline, Uint32Array.of(s.tokens, s.width, xOffset), [ctx.whole(rounded), x], Math.ceil(n / plan.block / wg));
  return rounded;
}
