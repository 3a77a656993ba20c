// llamascope: the library as notebooks and scripts import it (`import { openGGUF } from 'llamascope'`).
export * from './gguf';
export { quantizeFile, quantizeTargets, type QuantizedTensor, type QuantizeOptions } from './gguf/quantize';
export * as quant from './quant';
export { dequantize, quantize, GGML_TYPES, typeByName, typeById, type GGMLTypeInfo } from './quant';
export * from './inspect';
export { Tokenizer, TokenType, type EncodeOptions, type DecodeOptions } from './model/tokenizer';
// Notebook display (plots as plot.heatmap/line/histogram/scatter/bar, tables, summaries, progress, streams) and Arrow export.
export * from './notebook';
// Random-weight models of any LLaMA shape, written directly in a quantized type or llama.cpp mixture.
export { synthesizeModel, type SynthOptions, type SynthProgress, type SynthResult, type SynthesizedTensor } from './model/synth';
export { NAMED_SHAPES, namedShape, type LlamaShape } from './model/shapes';
export { planTensorTypes, fileTypeNames, llamaFileType } from './model/file-types';
// The model layer, for notebooks: load a LLaMA GGUF, run it with hooks, step through it, generate; lazy tensors.
export { LlamaModel, type Hooks, type HookEvent, type NumericMode, type ForwardOptions, type LlamaWeights } from './model/llama';
export { Stepper } from './model/stepper';
export { LLAMA_CPP_BUILDS, hookOfLlamaCppNode, hookPoints, matchHooks, type HookPoint, type LlamaCppNode } from './model/hooks';
export { generate, type GenerateOptions, type Generation } from './model/generate';
export { Decoder } from './model/decoder';
export { Sampler, type SamplerOptions } from './model/sampler';
export { KVCache } from './model/kv-cache';
export { perplexity, type PerplexityOptions, type PerplexityResult } from './model/perplexity';
export { readHParams, type LlamaHParams } from './model/hparams';
export { Tensor, Plan, realize, scope, useBackend, TensorError, type TensorData, type BackendName } from './tensor';
export { DeviceMemoryError } from './tensor/errors';
export type { CpuOptions } from './backend/cpu';
// Which x86 build of llama.cpp the llama.cpp numeric mode reproduces (AVX-512 or AVX2 lane widths).
export { useGgmlSimd, GGML_SIMD, type GgmlSimd } from './backend/cpu/ops/ggml-float';
