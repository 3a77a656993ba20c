// Perplexity exactly as llama.cpp's llama-perplexity computes it: the text is tokenized once (with
// BOS), cut into chunks of nCtx tokens whose first token is replaced by BOS, each chunk evaluated
// in one pass, and only the second half of each chunk scored (tokens nCtx/2 .. nCtx-1 predicting
// the next). The ± is the standard error of the mean log-likelihood, scaled by the perplexity.
import type { LlamaModel, NumericMode } from './llama';

export interface PerplexityOptions {
  nCtx: number;
  /** Evaluate at most this many chunks (llama.cpp's --chunks). */
  chunks?: number;
  mode?: NumericMode;
  onChunk?: (chunk: number, total: number, runningPpl: number) => void;
}

export interface PerplexityResult {
  ppl: number;
  /** llama.cpp's "+/-" figure. */
  plusMinus: number;
  tokensScored: number;
  chunks: number;
  runningPplPerChunk: number[];
}

export async function perplexity(model: LlamaModel, text: string, options: PerplexityOptions): Promise<PerplexityResult> {
  const { nCtx } = options;
  const tokens = model.tokenizer.encode(text);
  const maxChunks = Math.floor(tokens.length / nCtx);
  const chunks = options.chunks === undefined || options.chunks < 0 ? maxChunks : Math.min(options.chunks, maxChunks);
  if (chunks === 0) throw new Error(`the text has ${tokens.length} tokens: fewer than one ${nCtx}-token chunk; use a smaller --ctx or a longer text`);
  if (nCtx > model.hparams.contextLength) throw new Error(`--ctx ${nCtx} exceeds the model's context length ${model.hparams.contextLength}`);
  const bos = model.tokenizer.bos;
  const first = Math.floor(nCtx / 2);
  let nll = 0;
  let nll2 = 0;
  let count = 0;
  const running: number[] = [];
  for (let c = 0; c < chunks; c++) {
    const chunk = tokens.slice(c * nCtx, (c + 1) * nCtx);
    if (bos !== null) chunk[0] = bos;
    const logits = (await model.runWithHooks(chunk, {}, { mode: options.mode })).data();
    const values = (await logits) as Float32Array;
    const vocab = values.length / nCtx;
    for (let j = first; j < nCtx - 1; j++) {
      const v = -logSoftmax(values.subarray(j * vocab, (j + 1) * vocab), chunk[j + 1]);
      nll += v;
      nll2 += v * v;
      count++;
    }
    running.push(Math.exp(nll / count));
    options.onChunk?.(c + 1, chunks, running[running.length - 1]);
  }
  const mean = nll / count;
  const variance = nll2 / count - mean * mean;
  const ppl = Math.exp(mean);
  return { ppl, plusMinus: variance > 0 ? Math.sqrt(variance / (count - 1)) * ppl : NaN, tokensScored: count, chunks, runningPplPerChunk: running };
}

/** log p(token) under softmax(logits), as llama.cpp: float max, double sum of expf. */
function logSoftmax(logits: Float32Array, token: number): number {
  let max = logits[0];
  for (let i = 1; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.fround(Math.exp(logits[i] - max));
  return logits[token] - max - Math.log(sum);
}
