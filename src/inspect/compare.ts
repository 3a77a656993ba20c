// Where does our forward pass leave llama.cpp's? (seed 001's question) Run the model with every
// hook captured, align each node of a llama-eval-callback dump with the hook point of the same
// value (hooks.ts carries llama.cpp's node names), and compare node by node.
//
// Nodes are matched by name and op (hooks.ts knows the names of older and newer llama.cpp builds;
// Qcur-N / Kcur-N are printed after the MUL_MAT and again after the ROPE). Two more details of the
// dump: the attention scores and pattern have their key dimension padded (the KV cache length,
// rounded up); and llama.cpp may keep only the last token after the attention of the last block.
import type { Hooks, LlamaModel, NumericMode } from '../model/llama';
import { hookOfLlamaCppNode, hookPoints } from '../model/hooks';
import { realize } from '../tensor';
import { compareDump, type CompareOptions, type DumpComparison, type EvalCallbackDump, type EvalCallbackNode } from './eval-callback';

export interface ModelComparison extends DumpComparison {
  /** The hook point each compared node was matched with, by node position. */
  hookOf: Map<number, string>;
}

export async function compareWithDump(
  model: LlamaModel,
  dump: EvalCallbackDump,
  tokens: readonly number[],
  options: { mode?: NumericMode; hooks?: Hooks } & Partial<CompareOptions> = {},
): Promise<ModelComparison> {
  const points = hookPoints(model.hparams.blockCount);
  const hookFor = hookOfLlamaCppNode(points);
  const { cache } = await model.runWithCache(tokens, { mode: options.mode });
  const names = points.filter((h) => h.llamaCppNodes.length > 0).map((h) => h.name);
  const values = new Map<string, Float32Array>();
  if (options.hooks) {
    const patched = new Map<string, import('../tensor').Tensor>();
    const logits = model.forward(tokens, {
      mode: options.mode,
      hooks: Object.fromEntries(names.map((n) => [n, (t: import('../tensor').Tensor) => {
        const out = options.hooks![n]?.(t, n) ?? t;
        patched.set(n, out);
        return out;
      }])),
    });
    await realize(logits, ...patched.values());
    for (const [n, t] of patched) values.set(n, (await t.data()) as Float32Array);
  } else {
    for (const n of names) if (cache.has(n)) values.set(n, (await cache.get(n)!.data()) as Float32Array);
  }
  const hookOf = new Map<number, string>();
  const result = compareDump(dump, (node) => {
    const hook = hookFor(node.name, node.op);
    const data = hook ? values.get(hook) : undefined;
    const laidOut = data && layOut(node, hook!, data);
    if (laidOut) hookOf.set(node.position, hook!);
    return laidOut;
  }, options);
  return { ...result, hookOf };
}

/** Our values for a node in the dump's layout (innermost dimension first), or undefined. */
function layOut(node: EvalCallbackNode, hook: string, data: Float32Array): Float32Array | undefined {
  const size = node.shape.reduce((a, b) => a * b, 1);
  if (data.length === size) return data;
  const [keys, queries, heads] = node.shape;
  if (/\.attn\.hook_(attn_scores|pattern)$/.test(hook) && data.length === heads * queries * queries) {
    const padded = new Float32Array(size); // ours: [heads, queries, queries]; the dump pads keys
    for (let r = 0; r < heads * queries; r++) padded.set(data.subarray(r * queries, (r + 1) * queries), r * keys);
    return padded;
  }
  if (node.shape[1] === 1 && data.length % size === 0) return data.subarray(data.length - size); // last token only
  return undefined;
}
