// llama.cpp's file types (`llama_ftype`) and the ggml type each tensor of a LLaMA model gets in one.
//
// A plain ggml type name (Q4_0, Q8_0, Q4_K, ...) means every matrix in that type, as
// `llama-quantize --pure` writes it. Q4_K_M and Q5_K_M are llama.cpp's default mixtures, following
// llama_tensor_get_type_impl in src/llama-quant.cpp of ggml-org/llama.cpp, for a dense LLaMA model:
//  - output.weight (token_embd.weight when the output is tied) gets Q6_K, or Q8_0 when its rows do
//    not split into 256-value super-blocks;
//  - attn_v.weight and ffn_down.weight get Q6_K in the layers where `use_more_bits` holds: the first
//    and last eighth of the layers, and every third layer in between;
//  - every other matrix gets the base type (Q4_K, Q5_K).
// Then, as llama.cpp's tensor_type_fallback does, a type whose block does not divide the row length
// falls back to a 32-value type (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, ...), or to F16 if even
// that does not fit. 1-D tensors (the norms) stay F32.

import { typeByName, type GGMLTypeInfo } from '../quant/types';
import { LLAMA_FTYPE as PURE_FILE_TYPES } from '../gguf/quantize';

/** `enum llama_ftype` (include/llama.h): the pure types, plus llama.cpp's two K mixtures. */
const LLAMA_FTYPE: Record<string, number> = { ...PURE_FILE_TYPES, Q4_K_M: 15, Q5_K_M: 17 };

/** The base ggml type of each mixture. */
const MIXTURE_BASE: Record<string, string> = { Q4_K_M: 'Q4_K', Q5_K_M: 'Q5_K' };

/** llama.cpp's tensor_type_fallback for row lengths the chosen type's blocks do not divide. */
const FALLBACK: Record<string, string> = { Q2_K: 'Q4_0', Q3_K: 'Q4_0', Q4_K: 'Q5_0', Q5_K: 'Q5_1', Q6_K: 'Q8_0', IQ4_XS: 'IQ4_NL' };

/** The file types `planTensorTypes` accepts, pure types first. */
export function fileTypeNames(): string[] {
  return Object.keys(LLAMA_FTYPE);
}

/** The `general.file_type` value llama.cpp writes for a file type. */
export function llamaFileType(fileType: string): number {
  const id = LLAMA_FTYPE[fileType.toUpperCase()];
  if (id === undefined) throw new Error(`unknown file type '${fileType}'; choose one of ${fileTypeNames().join(', ')}`);
  return id;
}

export interface TensorShapeInfo {
  name: string;
  /** Dimensions, innermost first (GGUF order). */
  shape: readonly number[];
}

/** The ggml type of every tensor of a LLaMA model written as `fileType`, by tensor name. */
export function planTensorTypes(tensors: readonly TensorShapeInfo[], fileType: string): Map<string, GGMLTypeInfo> {
  const name = fileType.toUpperCase();
  llamaFileType(name);
  const base = MIXTURE_BASE[name] ?? name;
  const isMixture = name in MIXTURE_BASE;
  const tied = !tensors.some((t) => t.name === 'output.weight');
  const layers = new Set(tensors.map((t) => layerOf(t.name)).filter((l) => l >= 0));
  const nLayer = layers.size;

  const plan = new Map<string, GGMLTypeInfo>();
  for (const t of tensors) {
    if (t.shape.length < 2) {
      plan.set(t.name, typeByName('F32')!);
      continue;
    }
    let chosen = base;
    if (isMixture) {
      const isOutput = t.name === 'output.weight' || (tied && t.name === 'token_embd.weight');
      const layer = layerOf(t.name);
      if (isOutput) chosen = t.shape[0] % typeByName(base)!.blockSize === 0 ? 'Q6_K' : 'Q8_0';
      // llama.cpp counts attn_v tensors in file order, which is layer order; ffn_down uses the layer.
      else if ((t.name.endsWith('.attn_v.weight') || t.name.endsWith('.ffn_down.weight')) && useMoreBits(layer, nLayer)) chosen = 'Q6_K';
    }
    plan.set(t.name, fitRows(t, chosen));
  }
  return plan;
}

/** llama.cpp's use_more_bits: the first and last eighth of the layers and every third in between. */
function useMoreBits(layer: number, nLayer: number): boolean {
  const eighth = Math.trunc(nLayer / 8);
  return layer < eighth || layer >= Math.trunc((7 * nLayer) / 8) || (layer - eighth) % 3 === 2;
}

function fitRows(t: TensorShapeInfo, typeName: string): GGMLTypeInfo {
  const type = typeByName(typeName)!;
  if (t.shape[0] % type.blockSize === 0) return type;
  const fallback = typeByName(FALLBACK[typeName] ?? 'F16')!;
  return t.shape[0] % fallback.blockSize === 0 ? fallback : typeByName('F16')!;
}

function layerOf(name: string): number {
  const m = /^blk\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : -1;
}
