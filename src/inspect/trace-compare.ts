// Where do two runs of the forward pass part? Two traces — the same prompt on two quant types of a
// model, on the CPU and the WebGPU backend, in float and llama.cpp mode, or two trace files — are
// compared hook point by hook point in forward order, reported as the comparison with a
// llama-eval-callback dump is: per hook the relative error and the largest difference, and the
// first hook whose values differ beyond a tolerance.
//
// The tolerance is relative: a value may differ by tolerance x its own magnitude, floored at the
// activation's RMS (as a dump's values are floored at the print resolution). The floor matters:
// quantization error is spread over a whole row, so values near zero get errors of the row's
// size; and activations differ in scale by orders of magnitude (embeddings ~0.05, attention scores
// ~50), so no absolute floor fits them all.
import { LlamaModel, type NumericMode } from '../model/llama';
import type { Backend, Tensor } from '../tensor';
import type { NodeComparison, NodeIndex } from './eval-callback';
import { ErrorTally } from './error-tally';
import { captureTrace, readTrace, traceOf, type Trace } from './trace';

export interface HookComparison extends Omit<NodeComparison, 'sum'> {
  /** Row-major shape of the activation (the element index of firstDivergence is innermost first). */
  shape: number[];
  /** RMS of the reference (first) trace's activation: the least magnitude the tolerance is relative to. */
  rms: number;
}

export interface TraceComparison {
  /** Hooks both traces hold, in the first trace's order; `position` is the hook's index in the first trace. */
  comparisons: HookComparison[];
  /** The first hook with a value beyond tolerance. */
  firstDivergent?: HookComparison;
  tolerance: number;
  /** What each trace is (Trace.source), when known. */
  sources: [string | undefined, string | undefined];
  /** Hooks only the first, and only the second, trace holds; not compared. */
  onlyIn: [string[], string[]];
}

export interface TraceCompareOptions {
  /**
   * A value diverges when |b − a| > tolerance · max(|a|, RMS of a's activation), a being the first
   * trace. Default 1e-4: float32 rounding differences between kernels and backends stay well below,
   * Q8_0 quantization noise (~0.5 % of the RMS) does not. 0 asks for identical values.
   */
  tolerance?: number;
}

/** A trace in memory, the `cache` of `runWithCache`, or the path of a trace file. */
export type TraceSource = Trace | ReadonlyMap<string, Tensor> | string;

/** Compare trace `b` with the reference `a`, hook by hook. */
export async function compareTraces(a: TraceSource, b: TraceSource, options: TraceCompareOptions = {}): Promise<TraceComparison> {
  const [ta, tb] = [await asTrace(a), await asTrace(b)];
  const tolerance = options.tolerance ?? 1e-4;
  if (!(tolerance >= 0)) throw new Error(`tolerance must be a number >= 0 (a relative difference, e.g. 0.1 for 10 %), got ${tolerance}`);
  if (ta.tokens && tb.tokens && ta.tokens.join() !== tb.tokens.join()) {
    throw new Error(`the traces ran on different tokens ([${ta.tokens.join(', ')}] and [${tb.tokens.join(', ')}]); trace both with the same prompt`);
  }
  const comparisons: HookComparison[] = [];
  for (const [position, [name, reference]] of [...ta.hooks].entries()) {
    const other = tb.hooks.get(name);
    if (!other) continue;
    if (reference.shape.join() !== other.shape.join()) {
      throw new Error(`hook ${name} has shape [${reference.shape.join(', ')}] in the first trace and [${other.shape.join(', ')}] in the second: runs of different prompts or models; compare runs of the same prompt on models of the same shape`);
    }
    comparisons.push(compareActivation(position, name, reference.shape, reference.values, other.values, tolerance));
  }
  const onlyIn = (x: Trace, y: Trace) => [...x.hooks.keys()].filter((n) => !y.hooks.has(n));
  return {
    comparisons,
    firstDivergent: comparisons.find((c) => !c.matches),
    tolerance,
    sources: [ta.source, tb.source],
    onlyIn: [onlyIn(ta, tb), onlyIn(tb, ta)],
  };
}

/** One side of `compareRuns`: a model (loaded, or a GGUF path loaded on `backend`) and how to run it. */
export interface ModelRun {
  model: LlamaModel | string;
  /** Default 'float'. */
  mode?: NumericMode;
  /** Where a model given by path is loaded; default the current default backend. */
  backend?: Backend;
}

/**
 * Run two models (or one model two ways) on the same prompt and compare their traces: e.g.
 * `compareRuns(f32Path, q4Path, 'Once upon a time', { tolerance: 0.05 })`, or
 * `compareRuns({ model, mode: 'float' }, { model, mode: 'llama.cpp' }, tokens)`.
 */
export async function compareRuns(
  a: ModelRun | LlamaModel | string,
  b: ModelRun | LlamaModel | string,
  prompt: string | readonly number[],
  options: TraceCompareOptions & { names?: readonly string[] } = {},
): Promise<TraceComparison> {
  const traces: Trace[] = [];
  for (const side of [a, b]) {
    const run = typeof side === 'string' || side instanceof LlamaModel ? { model: side } : side;
    const model = typeof run.model === 'string' ? await LlamaModel.load(run.model, { backend: run.backend }) : run.model;
    const tokens = typeof prompt === 'string' ? model.tokenizer.encode(prompt) : prompt;
    traces.push(await captureTrace(model, tokens, { mode: run.mode, names: options.names }));
  }
  return compareTraces(traces[0], traces[1], options);
}

async function asTrace(source: TraceSource): Promise<Trace> {
  if (typeof source === 'string') return readTrace(source);
  if ('hooks' in source && source.hooks instanceof Map) return source as Trace;
  return traceOf(source as ReadonlyMap<string, Tensor>);
}

function compareActivation(position: number, name: string, shape: number[], expected: Float32Array, actual: Float32Array, tolerance: number): HookComparison {
  let sumSq = 0;
  for (const v of expected) if (Number.isFinite(v)) sumSq += v * v;
  const rms = Math.sqrt(sumSq / Math.max(1, expected.length));
  const tally = new ErrorTally();
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(Math.abs(expected[i]), rms);
    tally.add(expected[i], actual[i], tolerance * scale, scale, i, () => innermostFirst(i, shape));
  }
  const { compared, maxAbsError, relativeError, firstDivergence, divergentCount } = tally;
  return { position, name, shape, rms, compared, maxAbsError, relativeError, firstDivergence, divergentCount, matches: divergentCount === 0 };
}

/** The index of a row-major element as llama.cpp prints it: innermost dimension first, padded to 4. */
function innermostFirst(flat: number, shape: readonly number[]): NodeIndex {
  const index: NodeIndex = [0, 0, 0, 0];
  for (let k = 0, d = shape.length - 1; d >= 0; k++, d--) {
    if (k === 3) {
      index[3] = flat; // any dimensions beyond the fourth, folded into it
      break;
    }
    index[k] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}
