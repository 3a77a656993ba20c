// llamascope: the library as notebooks and scripts import it (`import { openGGUF } from 'llamascope'`).
export * from './gguf';
export { quantizeFile, quantizeTargets, type QuantizedTensor, type QuantizeOptions } from './gguf/quantize';
export * as quant from './quant';
export { dequantize, quantize, GGML_TYPES, typeByName, typeById, type GGMLTypeInfo } from './quant';
export * from './inspect';
export { Tokenizer, TokenType, type EncodeOptions, type DecodeOptions } from './model/tokenizer';
// Notebook display (plots as plot.heatmap/line/histogram/scatter/bar, tables, summaries, progress, streams) and Arrow export.
export * from './notebook';
