// Metadata keys llamascope reads, as the GGUF spec names them (ggml/docs/gguf.md).
// Architecture-specific keys take the architecture as prefix: `${arch}.context_length`.

export const KEY_ALIGNMENT = 'general.alignment';
export const KEY_ARCHITECTURE = 'general.architecture';
export const KEY_NAME = 'general.name';
export const KEY_FILE_TYPE = 'general.file_type';
export const KEY_QUANTIZATION_VERSION = 'general.quantization_version';

export const archKey = {
  contextLength: (arch: string) => `${arch}.context_length`,
  embeddingLength: (arch: string) => `${arch}.embedding_length`,
  blockCount: (arch: string) => `${arch}.block_count`,
  feedForwardLength: (arch: string) => `${arch}.feed_forward_length`,
  headCount: (arch: string) => `${arch}.attention.head_count`,
  headCountKV: (arch: string) => `${arch}.attention.head_count_kv`,
  rmsEpsilon: (arch: string) => `${arch}.attention.layer_norm_rms_epsilon`,
  ropeDimensionCount: (arch: string) => `${arch}.rope.dimension_count`,
  ropeFreqBase: (arch: string) => `${arch}.rope.freq_base`,
  ropeScalingType: (arch: string) => `${arch}.rope.scaling.type`,
  ropeScalingFactor: (arch: string) => `${arch}.rope.scaling.factor`,
  vocabSize: (arch: string) => `${arch}.vocab_size`,
} as const;

export const KEY_TOKENIZER_MODEL = 'tokenizer.ggml.model';
export const KEY_TOKENIZER_PRE = 'tokenizer.ggml.pre';
export const KEY_TOKENS = 'tokenizer.ggml.tokens';
export const KEY_SCORES = 'tokenizer.ggml.scores';
export const KEY_TOKEN_TYPE = 'tokenizer.ggml.token_type';
export const KEY_BOS_ID = 'tokenizer.ggml.bos_token_id';
export const KEY_EOS_ID = 'tokenizer.ggml.eos_token_id';
export const KEY_UNK_ID = 'tokenizer.ggml.unknown_token_id';
export const KEY_PAD_ID = 'tokenizer.ggml.padding_token_id';
export const KEY_ADD_BOS = 'tokenizer.ggml.add_bos_token';
export const KEY_ADD_EOS = 'tokenizer.ggml.add_eos_token';
