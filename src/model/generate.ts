// Text generation with the KV cache: one forward pass over the prompt, then one token at a time.
import type { LlamaModel, NumericMode } from './llama';
import { Sampler, type SamplerOptions } from './sampler';

export interface GenerateOptions extends SamplerOptions {
  /** Tokens to generate at most. */
  maxTokens: number;
  mode?: NumericMode;
  /** Stop at the end-of-sequence token (default true). */
  stopAtEos?: boolean;
  /** Called with each new token and its text piece, as it is produced. */
  onToken?: (token: number, piece: string) => void;
}

export interface Generation {
  promptTokens: number[];
  tokens: number[];
  text: string;
  stoppedBy: 'eos' | 'maxTokens';
}

/** Generate from a prompt (text, tokenized with BOS as llama.cpp does, or token ids). */
export async function generate(model: LlamaModel, prompt: string | readonly number[], options: GenerateOptions): Promise<Generation> {
  const promptTokens = typeof prompt === 'string' ? model.tokenizer.encode(prompt) : [...prompt];
  const limit = model.hparams.contextLength;
  if (promptTokens.length >= limit) {
    throw new Error(`the prompt has ${promptTokens.length} tokens but the context holds ${limit}; shorten it`);
  }
  const sampler = new Sampler(options);
  const cache = model.newCache();
  const tokens: number[] = [];
  let input: number[] = promptTokens;
  let stoppedBy: Generation['stoppedBy'] = 'maxTokens';
  while (tokens.length < options.maxTokens && cache.length + input.length <= limit) {
    const logits = await model.runWithHooks(input, {}, { mode: options.mode, cache, logits: 'last' });
    const next = sampler.sample((await logits.data()) as Float32Array, [...promptTokens, ...tokens]);
    logits.dispose();
    if (next === model.tokenizer.eos && (options.stopAtEos ?? true)) {
      stoppedBy = 'eos';
      break;
    }
    tokens.push(next);
    options.onToken?.(next, model.tokenizer.piece(next));
    input = [next];
  }
  return { promptTokens, tokens, text: model.tokenizer.decode(tokens), stoppedBy };
}
