// A trace: the activations of one forward pass at its hook points, in memory or as the Arrow IPC
// file `llamascope trace` writes. The file has one row per hook point, in forward order:
//   hook       the hook name (hooks.ts)
//   llama_cpp  the node name llama-eval-callback printed for it in the reference build ('' if none)
//   shape      the activation's shape, row-major (List<Int32>)
//   values     the activation, flat, row-major (List<Float32>)
// and its schema metadata keeps the prompt's token ids ('llamascope.tokens', JSON) and what made
// the trace ('llamascope.source'), so that two traces of different prompts are not compared.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Field, Float32, Int32, List, Schema, Table, Utf8, tableFromIPC, vectorFromArray } from 'apache-arrow';
import type { LlamaModel, NumericMode } from '../model/llama';
import { hookPoints } from '../model/hooks';
import type { Tensor } from '../tensor';

export interface TracedActivation {
  /** Row-major, as the hook point's tensor. */
  shape: number[];
  values: Float32Array;
}

export interface Trace {
  /** The activation at each hook point, by hook name, in forward order. */
  hooks: Map<string, TracedActivation>;
  /** The token ids the model ran on, when known. */
  tokens?: number[];
  /** What made it, e.g. "manllama-6m-f32.gguf, float mode, cpu backend", when known. */
  source?: string;
}

export interface TraceOptions {
  /** Default 'float'. */
  mode?: NumericMode;
  /** Hook names or globs ('blocks.*.hook_resid_post'); default every hook point. */
  names?: readonly string[];
}

const TOKENS_KEY = 'llamascope.tokens';
const SOURCE_KEY = 'llamascope.source';

/** Run `model` on `tokens` and keep the activations at its hook points. */
export async function captureTrace(model: LlamaModel, tokens: readonly number[], options: TraceOptions = {}): Promise<Trace> {
  const mode = options.mode ?? 'float';
  const { cache } = await model.runWithCache(tokens, { mode, names: options.names });
  return traceOf(cache, { tokens: [...tokens], source: `${path.basename(model.file.path)}, ${mode} mode, ${model.backend.name} backend` });
}

/** The numbers of a capture (the `cache` of `runWithCache`), with what is known about the run. */
export async function traceOf(cache: ReadonlyMap<string, Tensor>, about: Omit<Trace, 'hooks'> = {}): Promise<Trace> {
  const hooks = new Map<string, TracedActivation>();
  for (const [name, tensor] of cache) {
    const data = await tensor.data();
    if (!(data instanceof Float32Array)) throw new Error(`hook ${name} holds ${tensor.dtype} values; a trace keeps float32 activations`);
    hooks.set(name, { shape: [...tensor.shape], values: data });
  }
  return { hooks, ...about };
}

/** The trace as an Arrow table in the file layout above (write it with `writeArrow`). */
export function traceTable(trace: Trace): Table {
  const names = [...trace.hooks.keys()];
  const blocks = 1 + Math.max(-1, ...names.map((n) => Number(/^blocks\.(\d+)\./.exec(n)?.[1] ?? -1)));
  const llamaCpp = new Map(hookPoints(blocks).map((h) => [h.name, h.llamaCpp ?? '']));
  const activations = [...trace.hooks.values()];
  const list = (item: Float32 | Int32) => new List(new Field('item', item, true));
  const table = new Table({
    hook: vectorFromArray(names, new Utf8()),
    llama_cpp: vectorFromArray(names.map((n) => llamaCpp.get(n) ?? ''), new Utf8()),
    shape: vectorFromArray(activations.map((a) => Int32Array.from(a.shape)), list(new Int32())),
    values: vectorFromArray(activations.map((a) => a.values), list(new Float32())),
  });
  const metadata = new Map<string, string>();
  if (trace.tokens) metadata.set(TOKENS_KEY, JSON.stringify(trace.tokens));
  if (trace.source) metadata.set(SOURCE_KEY, trace.source);
  return new Table(new Schema(table.schema.fields, metadata), table.batches);
}

/** Read a trace file written by `llamascope trace` (or `writeArrow(path, traceTable(trace))`). */
export function readTrace(file: string): Trace {
  let table: Table;
  try {
    table = tableFromIPC(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`${file}: not an Arrow IPC file (${(e as Error).message}); make a trace with 'llamascope trace MODEL --prompt TEXT --out FILE.arrow'`);
  }
  const [hook, shape, values] = ['hook', 'shape', 'values'].map((c) => table.getChild(c));
  if (!hook || !shape || !values) {
    throw new Error(`${file}: an Arrow file without the hook, shape and values columns of a trace; make one with 'llamascope trace MODEL --prompt TEXT --out FILE.arrow'`);
  }
  const hooks = new Map<string, TracedActivation>();
  for (let row = 0; row < table.numRows; row++) {
    const name = String(hook.get(row));
    const dims = Array.from(shape.get(row).toArray() as Int32Array);
    const data = values.get(row).toArray();
    if (!(data instanceof Float32Array)) throw new Error(`${file}: hook ${name} has values of another type than float32; this is not a trace written by llamascope`);
    if (dims.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`${file}: hook ${name} has shape [${dims.join(', ')}] but ${data.length} values; the file is damaged`);
    hooks.set(name, { shape: dims, values: data });
  }
  const tokens = table.schema.metadata.get(TOKENS_KEY);
  const source = table.schema.metadata.get(SOURCE_KEY);
  return { hooks, tokens: tokens === undefined ? undefined : (JSON.parse(tokens) as number[]), source: source ?? file };
}
