// LLaMA hyperparameters from GGUF metadata, with errors that name the missing key.
import { GGUFError, type GGUFFile } from '../gguf';
import { archKey, KEY_ARCHITECTURE } from '../gguf/keys';

export interface LlamaHParams {
  arch: string;
  vocabSize: number;
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  headCountKV: number;
  headDim: number;
  rmsEpsilon: number;
  ropeDims: number;
  ropeFreqBase: number;
  /** Positions are multiplied by this (1 / rope.scaling.factor for linear scaling). */
  ropeFreqScale: number;
}

/** Architectures whose tensors and forward pass are LLaMA's. */
export const SUPPORTED_ARCHITECTURES = ['llama'];

export function readHParams(file: GGUFFile): LlamaHParams {
  const arch = file.get(KEY_ARCHITECTURE);
  if (typeof arch !== 'string' || !SUPPORTED_ARCHITECTURES.includes(arch)) {
    throw new Error(
      `${file.path}: architecture ${JSON.stringify(arch)} is not supported; llamascope runs ${SUPPORTED_ARCHITECTURES.join(', ')}` +
        ' (TinyLlama, Llama 2, Mistral-style models)',
    );
  }
  const num = (key: string, fallback?: number): number => {
    const v = file.get(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' && typeof v !== 'bigint') {
      throw new GGUFError('BAD_VALUE_TYPE', `${file.path}: metadata key '${key}' is ${v === undefined ? 'missing' : `not a number (${String(v)})`}; it is required for ${arch} models`, { key });
    }
    return Number(v);
  };
  const embeddingLength = num(archKey.embeddingLength(arch));
  const headCount = num(archKey.headCount(arch));
  const headDim = embeddingLength / headCount;
  const tokens = file.get('tokenizer.ggml.tokens') as unknown[] | undefined;
  // As llama.cpp reads them (load_hparams in src/llama-model.cpp, llama_context in
  // src/llama-context.cpp): the scaling type defaults to linear, type "none" or factor 0 means no
  // scaling, and the frequency scale is 1.0f/factor computed in float32 — ggml's RoPE multiplies
  // every angle by that float32 value, so a float64 1/factor moves angles by an ulp.
  const scalingType = file.get(archKey.ropeScalingType(arch)) ?? 'linear';
  const scalingFactor = num(archKey.ropeScalingFactor(arch), 1);
  const hp: LlamaHParams = {
    arch,
    vocabSize: num(archKey.vocabSize(arch), tokens?.length ?? NaN),
    contextLength: num(archKey.contextLength(arch)),
    embeddingLength,
    blockCount: num(archKey.blockCount(arch)),
    feedForwardLength: num(archKey.feedForwardLength(arch)),
    headCount,
    headCountKV: num(archKey.headCountKV(arch), headCount),
    headDim,
    rmsEpsilon: num(archKey.rmsEpsilon(arch)),
    ropeDims: num(archKey.ropeDimensionCount(arch), headDim),
    ropeFreqBase: num(archKey.ropeFreqBase(arch), 10000),
    ropeFreqScale: scalingType === 'none' || scalingFactor === 0 ? 1 : Math.fround(1 / scalingFactor),
  };
  if (!Number.isInteger(headDim) || headCount % hp.headCountKV !== 0) {
    throw new Error(`${file.path}: ${headCount} heads do not divide width ${embeddingLength} or are not a multiple of ${hp.headCountKV} KV heads`);
  }
  if (scalingType !== 'none' && scalingType !== 'linear') {
    throw new Error(`${file.path}: rope scaling '${String(scalingType)}' is not supported; llamascope supports none and linear`);
  }
  return hp;
}
