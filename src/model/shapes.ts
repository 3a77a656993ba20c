// The hyperparameters that fix a LLaMA model's tensor shapes, and the named shapes `synth` knows.

export interface LlamaShape {
  /** Vocabulary size (token_embd and output rows); need not be a multiple of 32. */
  nVocab: number;
  /** Width of the residual stream (llama.embedding_length). */
  nEmbd: number;
  /** Query heads; the head dimension is nEmbd / nHead. */
  nHead: number;
  /** Key/value heads (grouped-query attention when below nHead). */
  nHeadKV: number;
  /** Hidden width of the SwiGLU feed-forward (llama.feed_forward_length). */
  nFF: number;
  nLayer: number;
  /** Training context length (llama.context_length). */
  nCtx: number;
  ropeFreqBase: number;
  /** Linear RoPE scaling (llama.rope.scaling.type "linear"): positions are divided by this factor. Absent: no scaling. */
  ropeLinearScaling?: number;
  rmsNormEps: number;
  /** No output.weight: llama.cpp then uses token_embd as the output projection. */
  tiedOutput: boolean;
}

export const NAMED_SHAPES: Readonly<Record<string, Readonly<LlamaShape>>> = {
  // TinyLlama-1.1B (config.json of TinyLlama/TinyLlama-1.1B-Chat-v1.0).
  tinyllama: {
    nVocab: 32000, nEmbd: 2048, nHead: 32, nHeadKV: 4, nFF: 5632, nLayer: 22, nCtx: 2048,
    ropeFreqBase: 10000, rmsNormEps: 1e-5, tiedOutput: false,
  },
  // The shared test model ../shared/models/manllama-6m (its README's hyperparameter table).
  manllama: {
    nVocab: 2048, nEmbd: 256, nHead: 8, nHeadKV: 4, nFF: 768, nLayer: 6, nCtx: 256,
    ropeFreqBase: 10000, rmsNormEps: 1e-5, tiedOutput: false,
  },
};

export function namedShape(name: string): LlamaShape {
  const shape = NAMED_SHAPES[name];
  if (!shape) throw new Error(`unknown model shape '${name}'; known shapes: ${Object.keys(NAMED_SHAPES).join(', ')}`);
  return { ...shape };
}

/** Throw a clear error for a shape llama.cpp cannot load. */
export function checkShape(shape: LlamaShape): void {
  const positive: (keyof LlamaShape)[] = ['nVocab', 'nEmbd', 'nHead', 'nHeadKV', 'nFF', 'nLayer', 'nCtx'];
  for (const key of positive) {
    const v = shape[key];
    if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`model shape: ${key} must be a positive integer, got ${String(v)}`);
  }
  if (shape.nEmbd % shape.nHead !== 0) throw new Error(`model shape: nEmbd ${shape.nEmbd} is not a multiple of nHead ${shape.nHead}`);
  if ((shape.nEmbd / shape.nHead) % 2 !== 0) throw new Error(`model shape: head dimension ${shape.nEmbd / shape.nHead} must be even for RoPE`);
  if (shape.nHead % shape.nHeadKV !== 0) throw new Error(`model shape: nHead ${shape.nHead} is not a multiple of nHeadKV ${shape.nHeadKV}`);
  if (!(shape.ropeFreqBase > 0)) throw new Error(`model shape: ropeFreqBase must be positive, got ${shape.ropeFreqBase}`);
  if (shape.ropeLinearScaling !== undefined && !(shape.ropeLinearScaling > 0 && Number.isFinite(shape.ropeLinearScaling))) {
    throw new Error(`model shape: ropeLinearScaling must be a positive number, got ${shape.ropeLinearScaling}`);
  }
  if (!(shape.rmsNormEps > 0)) throw new Error(`model shape: rmsNormEps must be positive, got ${shape.rmsNormEps}`);
}
