// Text generation with the KV cache: one forward pass over the prompt, then one token at a time,
// optionally with hooks at every step.
import type { Hooks, LlamaModel, NumericMode } from './llama';
import { Sampler, type SamplerOptions } from './sampler';
import { Decoder } from './decoder';

export interface GenerateOptions extends SamplerOptions {
  /** Tokens to generate at most. */
  maxTokens: number;
  mode?: NumericMode;
  /** Stop at the end-of-sequence token (default true). */
  stopAtEos?: boolean;
  /** Called with each new token and its text piece, as it is produced. */
  onToken?: (token: number, piece: string) => void;
  /**
   * Hooks run at every step, the prompt's pass and each new token's (steering, ablation; as
   * LlamaModel.runWithHooks). With hooks every step builds its graph, since a hook may read or
   * replace anything; without, decoding replays one recorded step (decoder.ts).
   */
  hooks?: Hooks;
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
  // The prompt in one pass; then each token through a decoder, which replays a recorded step.
  const decoder = new Decoder(model, cache, options.mode);
  const tokens: number[] = [];
  let stoppedBy: Generation['stoppedBy'] = 'maxTokens';
  try {
    while (tokens.length < options.maxTokens && cache.length + (tokens.length === 0 ? promptTokens.length : 1) <= limit) {
      let logits: Float32Array;
      if (tokens.length === 0 || options.hooks) {
        const input = tokens.length === 0 ? promptTokens : [tokens[tokens.length - 1]];
        const last = await model.runWithHooks(input, options.hooks ?? {}, { mode: options.mode, cache, logits: 'last' });
        logits = (await last.data()) as Float32Array;
        last.dispose();
      } else {
        logits = await decoder.step(tokens[tokens.length - 1]);
      }
      const next = sampler.sample(logits, [...promptTokens, ...tokens]);
      if (next === model.tokenizer.eos && (options.stopAtEos ?? true)) {
        stoppedBy = 'eos';
        break;
      }
      tokens.push(next);
      options.onToken?.(next, model.tokenizer.piece(next));
    }
  } finally {
    decoder.dispose();
  }
  return { promptTokens, tokens, text: model.tokenizer.decode(tokens), stoppedBy };
}
