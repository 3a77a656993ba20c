// Random-weight LLaMA models of any shape, written straight to GGUF in a chosen type — for
// benchmarks at real model sizes and for checking inference against llama.cpp on shapes no
// shared model has (multi-head, tied output, odd vocabularies, other RoPE bases, linear RoPE scaling).
//
// The file is what llama.cpp expects of a `llama` model: every llama.* hyperparameter, a
// SentencePiece vocabulary (synth-vocab.ts), and the tensors under llama.cpp's names and shapes,
// in the order llama-quantize writes them. Weights come from a seeded generator (random.ts), one
// stream per tensor name, so the same seed gives the same underlying model in every type: a Q4_0
// and a Q8_0 synthesis are two quantizations of one set of float weights. Each tensor is generated and
// quantized a slice of rows at a time when the writer reaches it; memory holds one tensor's
// encoded bytes and one slice of float32 values, never the float model.
//
// Scales keep every activation at unit size for any width and depth. Weights are bell-shaped
// (random.ts) with mean 0 and std 1/sqrt(fan_in) for projections into a layer, so queries, keys,
// values and FFN inputs have unit variance and attention scores are neither flat nor one-hot; the
// projections back into the residual stream (attn_output, ffn_down) get another 1/sqrt(2 * n_layer),
// so all layers together add about as much as the token embedding; norm weights have mean 1, std 0.1.

import { meta, writeGGUF } from '../gguf/writer';
import type { GGUFValue } from '../gguf/values';
import * as keys from '../gguf/keys';
import { byteSize, type GGMLTypeInfo } from '../quant/types';
import { WeightSampler } from './random';
import { checkShape, namedShape, type LlamaShape } from './shapes';
import { llamaFileType, planTensorTypes } from './file-types';
import { BOS_ID, EOS_ID, UNK_ID, syntheticVocabulary } from './synth-vocab';

/** ggml's quantization scheme version (GGML_QNT_VERSION), written by llama-quantize. */
const QUANTIZATION_VERSION = 2;

/** Float32 values generated per slice: 4 MiB of scratch, whatever the tensor size. */
const SLICE_VALUES = 1 << 20;

export interface SynthProgress {
  /** Tensors written so far, including this one. */
  done: number;
  total: number;
  tensor: string;
  type: string;
  bytes: number;
}

export interface SynthOptions {
  /** A ggml type for every matrix (Q4_0, Q8_0, Q4_K, ...) or a llama.cpp mixture (Q4_K_M, Q5_K_M). */
  type: string;
  /** Seed of the weights (default 1). */
  seed?: number;
  /** general.name (default: "synth-<type>-seed<seed>"). */
  name?: string;
  /** Called after each tensor is written. */
  onProgress?: (progress: SynthProgress) => void;
}

export interface SynthesizedTensor {
  name: string;
  type: string;
  /** Dimensions, innermost first (GGUF order). */
  shape: number[];
  bytes: number;
}

export interface SynthResult {
  path: string;
  shape: LlamaShape;
  tensors: SynthesizedTensor[];
}

interface TensorRecipe {
  name: string;
  shape: number[];
  mean: number;
  std: number;
}

/** Write a random-weight LLaMA model of `shape` (or a named shape: tinyllama, manllama) to `out`. */
export function synthesizeModel(out: string, shape: LlamaShape | string, options: SynthOptions): SynthResult {
  const spec = typeof shape === 'string' ? namedShape(shape) : { ...shape };
  checkShape(spec);
  const fileType = options.type.toUpperCase();
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be an integer from 0 to 2^32-1, got ${seed}`);

  const recipes = tensorRecipes(spec);
  const types = planTensorTypes(recipes, fileType);
  const written: SynthesizedTensor[] = [];
  writeGGUF(out, {
    metadata: modelMetadata(spec, options.name ?? `synth-${fileType}-seed${seed}`, seed, llamaFileType(fileType)),
    tensors: recipes.map((recipe) => {
      const type = types.get(recipe.name)!;
      return {
        name: recipe.name,
        type,
        shape: recipe.shape,
        data: () => {
          const data = generateTensor(recipe, type, new WeightSampler(seed, streamOf(recipe.name)));
          written.push({ name: recipe.name, type: type.name, shape: recipe.shape, bytes: data.length });
          options.onProgress?.({ done: written.length, total: recipes.length, tensor: recipe.name, type: type.name, bytes: data.length });
          return data;
        },
      };
    }),
  });
  return { path: out, shape: spec, tensors: written };
}

/** Every tensor of the model with its shape and weight distribution, in llama-quantize's order. */
function tensorRecipes(s: LlamaShape): TensorRecipe[] {
  const nEmbdKV = (s.nEmbd / s.nHead) * s.nHeadKV;
  const matrix = (name: string, nIn: number, nOut: number, gain = 1): TensorRecipe => ({
    name,
    shape: [nIn, nOut],
    mean: 0,
    std: gain / Math.sqrt(nIn),
  });
  const norm = (name: string): TensorRecipe => ({ name, shape: [s.nEmbd], mean: 1, std: 0.1 });
  const intoResidual = 1 / Math.sqrt(2 * s.nLayer);

  // Untied: unit-variance embeddings. Tied: the embedding is also the output projection, which
  // needs 1/sqrt(n_embd) to keep the logits at unit size; RMS norm makes the input scale irrelevant.
  const recipes: TensorRecipe[] = [
    { name: 'token_embd.weight', shape: [s.nEmbd, s.nVocab], mean: 0, std: s.tiedOutput ? 1 / Math.sqrt(s.nEmbd) : 1 },
    norm('output_norm.weight'),
  ];
  if (!s.tiedOutput) recipes.push(matrix('output.weight', s.nEmbd, s.nVocab));
  for (let i = 0; i < s.nLayer; i++) {
    recipes.push(
      norm(`blk.${i}.attn_norm.weight`),
      matrix(`blk.${i}.attn_q.weight`, s.nEmbd, s.nEmbd),
      matrix(`blk.${i}.attn_k.weight`, s.nEmbd, nEmbdKV),
      matrix(`blk.${i}.attn_v.weight`, s.nEmbd, nEmbdKV),
      matrix(`blk.${i}.attn_output.weight`, s.nEmbd, s.nEmbd, intoResidual),
      norm(`blk.${i}.ffn_norm.weight`),
      matrix(`blk.${i}.ffn_gate.weight`, s.nEmbd, s.nFF),
      matrix(`blk.${i}.ffn_up.weight`, s.nEmbd, s.nFF),
      matrix(`blk.${i}.ffn_down.weight`, s.nFF, s.nEmbd, intoResidual),
    );
  }
  return recipes.sort(llamaQuantizeOrder);
}

/** llama-quantize writes tensors sorted by block number (non-block tensors first), then by name. */
function llamaQuantizeOrder(a: { name: string }, b: { name: string }): number {
  const block = (name: string) => {
    const m = /^blk\.(\d+)\./.exec(name);
    return m ? Number(m[1]) : -1;
  };
  return block(a.name) - block(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function generateTensor(recipe: TensorRecipe, type: GGMLTypeInfo, sampler: WeightSampler): Uint8Array {
  const rowLength = recipe.shape[0];
  const nRows = recipe.shape.slice(1).reduce((a, b) => a * b, 1);
  const rowBytes = byteSize(type, rowLength);
  const out = new Uint8Array(rowBytes * nRows);
  const rowsPerSlice = Math.max(1, Math.floor(SLICE_VALUES / rowLength));
  const slice = new Float32Array(Math.min(rowsPerSlice, nRows) * rowLength);
  const codec = type.codec!;
  for (let row = 0; row < nRows; row += rowsPerSlice) {
    const rows = Math.min(rowsPerSlice, nRows - row);
    const values = slice.subarray(0, rows * rowLength);
    sampler.fillApproxNormal(values, recipe.mean, recipe.std);
    codec.quantize(values, out.subarray(row * rowBytes, (row + rows) * rowBytes));
  }
  return out;
}

function modelMetadata(s: LlamaShape, name: string, seed: number, fileType: number): [string, GGUFValue][] {
  const arch = 'llama';
  const { archKey } = keys;
  const vocab = syntheticVocabulary(s.nVocab);
  return [
    [keys.KEY_ARCHITECTURE, meta.str(arch)],
    [keys.KEY_NAME, meta.str(name)],
    ['general.description', meta.str(`random weights (seed ${seed}) made by llamascope synth; not a trained model`)],
    [archKey.contextLength(arch), meta.u32(s.nCtx)],
    [archKey.embeddingLength(arch), meta.u32(s.nEmbd)],
    [archKey.blockCount(arch), meta.u32(s.nLayer)],
    [archKey.feedForwardLength(arch), meta.u32(s.nFF)],
    [archKey.headCount(arch), meta.u32(s.nHead)],
    [archKey.headCountKV(arch), meta.u32(s.nHeadKV)],
    [archKey.ropeDimensionCount(arch), meta.u32(s.nEmbd / s.nHead)],
    [archKey.rmsEpsilon(arch), meta.f32(s.rmsNormEps)],
    [archKey.ropeFreqBase(arch), meta.f32(s.ropeFreqBase)],
    ...(s.ropeLinearScaling === undefined
      ? []
      : ([
          [archKey.ropeScalingType(arch), meta.str('linear')],
          [archKey.ropeScalingFactor(arch), meta.f32(s.ropeLinearScaling)],
        ] as [string, GGUFValue][])),
    [archKey.vocabSize(arch), meta.u32(s.nVocab)],
    [keys.KEY_TOKENIZER_MODEL, meta.str('llama')],
    [keys.KEY_TOKENIZER_PRE, meta.str('default')],
    [keys.KEY_TOKENS, meta.strings(vocab.tokens)],
    [keys.KEY_SCORES, meta.f32s(vocab.scores)],
    [keys.KEY_TOKEN_TYPE, meta.i32s(vocab.tokenTypes)],
    [keys.KEY_BOS_ID, meta.u32(BOS_ID)],
    [keys.KEY_EOS_ID, meta.u32(EOS_ID)],
    [keys.KEY_UNK_ID, meta.u32(UNK_ID)],
    [keys.KEY_ADD_BOS, meta.bool(true)],
    [keys.KEY_ADD_EOS, meta.bool(false)],
    [keys.KEY_QUANTIZATION_VERSION, meta.u32(QUANTIZATION_VERSION)],
    [keys.KEY_FILE_TYPE, meta.u32(fileType)],
  ];
}

/** FNV-1a of the tensor name: its generator stream, the same whatever else the model holds. */
function streamOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
