// Interpretability basics over a captured forward pass: the logit lens (what each layer's residual
// stream would predict if the model stopped there), residual-stream norms per layer, attention
// patterns per head, and the top tokens at each position.
import type { LlamaModel, NumericMode } from '../model/llama';
import { realize, type Tensor } from '../tensor';

export interface TopToken {
  id: number;
  piece: string;
  prob: number;
}

export interface LogitLens {
  /** ['embed', 'block 0', ..., 'block N-1']: the residual stream after each stage. */
  stages: string[];
  /** top[stage][position]: the most likely next tokens if the model stopped at that stage. */
  top: TopToken[][][];
  /** Probability of the final top-1 token at each stage and position: how early the answer forms. */
  finalTokenProb: number[][];
}

export async function logitLens(model: LlamaModel, tokens: readonly number[], options: { k?: number; mode?: NumericMode } = {}): Promise<LogitLens> {
  const L = model.hparams.blockCount;
  const names = ['hook_embed', ...Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_post`)];
  const { cache } = await model.runWithCache(tokens, { names, mode: options.mode });
  const w = model.weights;
  const eps = model.hparams.rmsEpsilon;
  const lensed = names.map((n) => cache.get(n)!.rmsNorm(eps).mul(w.outputNorm).linear(w.output).softmax());
  await realize(...lensed);
  const probs = await Promise.all(lensed.map((t) => t.data() as Promise<Float32Array>));
  const V = model.hparams.vocabSize;
  const T = tokens.length;
  const finalProbs = probs[probs.length - 1];
  const finalTop = Array.from({ length: T }, (_, p) => topK(finalProbs.subarray(p * V, (p + 1) * V), 1)[0]);
  return {
    stages: ['embed', ...Array.from({ length: L }, (_, l) => `block ${l}`)],
    top: probs.map((pr) => Array.from({ length: T }, (_, p) => topK(pr.subarray(p * V, (p + 1) * V), options.k ?? 3).map((id) => ({ id, piece: model.tokenizer.piece(id), prob: pr[p * V + id] })))),
    finalTokenProb: probs.map((pr) => finalTop.map((id, p) => pr[p * V + id])),
  };
}

/** RMS of the residual stream entering each block and after the last, per position: [stage][position]. */
export async function residualNorms(model: LlamaModel, tokens: readonly number[], mode?: NumericMode): Promise<{ stages: string[]; rms: number[][] }> {
  const L = model.hparams.blockCount;
  const names = [...Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_pre`), `blocks.${L - 1}.hook_resid_post`];
  const { cache } = await model.runWithCache(tokens, { names, mode });
  const E = model.hparams.embeddingLength;
  const rms = await Promise.all(
    names.map(async (n) => {
      const x = (await cache.get(n)!.data()) as Float32Array;
      return Array.from({ length: tokens.length }, (_, p) => Math.sqrt(x.subarray(p * E, (p + 1) * E).reduce((s, v) => s + v * v, 0) / E));
    }),
  );
  return { stages: [...Array.from({ length: L }, (_, l) => `block ${l} in`), `block ${L - 1} out`], rms };
}

/** Attention probabilities of one block: [heads, queries, keys]. */
export async function attentionPatterns(model: LlamaModel, tokens: readonly number[], block: number, mode?: NumericMode): Promise<Tensor> {
  const name = `blocks.${block}.attn.hook_pattern`;
  const { cache } = await model.runWithCache(tokens, { names: [name], mode });
  return cache.get(name)!;
}

function topK(values: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (best.length < k || values[i] > values[best[best.length - 1]]) {
      best.push(i);
      best.sort((a, b) => values[b] - values[a]);
      if (best.length > k) best.pop();
    }
  }
  return best;
}
