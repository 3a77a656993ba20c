// The LLaMA forward pass, readable top to bottom (in the spirit of llama2.c's `forward`), on lazy
// tensors. Every intermediate passes through a named hook point (hooks.ts), where it can be
// captured, inspected or replaced; nothing computes until a value is realized.
//
//   embed -> for each block: RMSNorm, q/k/v, RoPE, causal GQA attention (with KV cache), output
//   projection, residual, RMSNorm, SwiGLU MLP, residual -> final RMSNorm -> logits
//
// Two numeric modes: 'float' (f32 activations, exact dequantized weights) and 'llama.cpp', which
// rounds where ggml's CPU backend rounds: activations quantized to each weight's vec_dot type
// before every matmul (Q8_0, Q8_1, Q8_K, F16), K and V stored in an f16 cache, and q and the
// attention probabilities rounded to f16 where they meet that cache. It also reproduces the
// float32 operation order of ggml's x86 kernels (backend/cpu/ops/ggml-*.ts) — the matmuls of
// F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K..Q6_K weights, q·K, P·V, softmax, SwiGLU,
// RMSNorm, RoPE — so that the logits equal llama.cpp's bit for bit: a one-ulp difference that
// crosses one of those f16 / int8 rounding boundaries would otherwise become a whole f16 / int8
// step, and in a quantized model such steps spread to every later position (~1e-2 in logits).

import { openGGUF, type GGUFFile } from '../gguf';
import { Tensor, createdIn, realize, type Backend } from '../tensor';
import { shapeString } from '../tensor/view';
import { defaultBackend } from '../tensor/device';
import { readHParams, type LlamaHParams } from './hparams';
import { hookPoints, matchHooks } from './hooks';
import { Tokenizer } from './tokenizer';
import { KVCache } from './kv-cache';
import { KV_PAD, overwriteStepInputs, paddedKeys, stepInputValues, uploadStepInputs, type StepInputs } from './step-inputs';

export type NumericMode = 'float' | 'llama.cpp';

/** A value passing a hook point; answer with a tensor of the same shape to replace it. */
export interface HookEvent {
  name: string;
  tensor: Tensor;
}

export type ForwardSteps = Generator<HookEvent, Tensor, Tensor | undefined>;

export interface ForwardOptions {
  mode?: NumericMode;
  /** Past keys and values; the new tokens' are appended (positions continue from cache.length). */
  cache?: KVCache;
  /** 'all' positions' logits (perplexity, traces) or only the 'last' one (generation). Default 'all'. */
  logits?: 'all' | 'last';
  /**
   * With a cache: attend over the cache padded to a multiple of 64 positions (step-inputs.ts
   * ATTENTION_PAD; llama.cpp pads its n_kv to 256), the keys past each token masked (-Infinity
   * before the softmax), instead of over exactly the positions filled. The same values; the pass's
   * shapes then change once per 64 tokens, so a recorded plan replays it (decoder.ts).
   * hook_attn_scores and hook_pattern have that many columns.
   */
  padAttention?: boolean;
  /** Tensors to overwrite with the pass's token ids, positions and mask instead of uploading new ones (a decoder's plan reads them). */
  inputs?: StepInputs;
}

interface BlockWeights {
  attnNorm: Tensor;
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  wo: Tensor;
  ffnNorm: Tensor;
  wGate: Tensor;
  wUp: Tensor;
  wDown: Tensor;
}

export interface LlamaWeights {
  tokenEmbedding: Tensor;
  blocks: BlockWeights[];
  outputNorm: Tensor;
  /** output.weight, or token_embd.weight when the output head is tied. */
  output: Tensor;
}

export interface LoadOptions {
  backend?: Backend;
  /** Called after each tensor is on the device. */
  onProgress?: (done: number, total: number, name: string) => void;
}

/** ggml's CPU backend multiplies each weight type with activations of this type (type_traits_cpu vec_dot_type). */
const ACTIVATION_TYPE: Record<string, string | null> = {
  f32: 'F32', // not rounded; tells linear to multiply as ggml's f32 kernels do
  F16: 'F16',
  BF16: 'BF16',
  Q4_0: 'Q8_0',
  Q5_0: 'Q8_0',
  Q8_0: 'Q8_0',
  IQ4_NL: 'Q8_0',
  Q4_1: 'Q8_1',
  Q5_1: 'Q8_1',
  Q2_K: 'Q8_K',
  Q3_K: 'Q8_K',
  Q4_K: 'Q8_K',
  Q5_K: 'Q8_K',
  Q6_K: 'Q8_K',
  IQ4_XS: 'Q8_K',
};

export class LlamaModel {
  private constructor(
    readonly file: GGUFFile,
    readonly hparams: LlamaHParams,
    readonly tokenizer: Tokenizer,
    readonly weights: LlamaWeights,
    readonly backend: Backend,
  ) {}

  /** Open a GGUF file and put its weights on the backend (quantized weights stay quantized). */
  static async load(source: string | GGUFFile, options: LoadOptions = {}): Promise<LlamaModel> {
    const file = typeof source === 'string' ? openGGUF(source) : source;
    const hp = readHParams(file);
    const tokenizer = Tokenizer.fromGGUF(file);
    const backend = options.backend ?? defaultBackend();
    const names = weightNames(file, hp);
    let done = 0;
    const load = (name: string, shape: number[]): Tensor => {
      const t = Tensor.fromGGUF(file, name, { backend });
      if (t.shape.join() !== shape.join()) {
        throw new Error(`${file.path}: tensor '${name}' has shape ${shapeString(t.shape)} but this ${hp.arch} model needs ${shapeString(shape)} (row-major)`);
      }
      options.onProgress?.(++done, names.length, name);
      return t;
    };
    const { embeddingLength: E, feedForwardLength: F, headDim: D, headCount: H, headCountKV: KV, vocabSize: V } = hp;
    const tokenEmbedding = load('token_embd.weight', [V, E]);
    const blocks = Array.from({ length: hp.blockCount }, (_, b) => ({
      attnNorm: load(`blk.${b}.attn_norm.weight`, [E]),
      wq: load(`blk.${b}.attn_q.weight`, [H * D, E]),
      wk: load(`blk.${b}.attn_k.weight`, [KV * D, E]),
      wv: load(`blk.${b}.attn_v.weight`, [KV * D, E]),
      wo: load(`blk.${b}.attn_output.weight`, [E, H * D]),
      ffnNorm: load(`blk.${b}.ffn_norm.weight`, [E]),
      wGate: load(`blk.${b}.ffn_gate.weight`, [F, E]),
      wUp: load(`blk.${b}.ffn_up.weight`, [F, E]),
      wDown: load(`blk.${b}.ffn_down.weight`, [E, F]),
    }));
    const outputNorm = load('output_norm.weight', [E]);
    const output = file.tensors.some((t) => t.name === 'output.weight') ? load('output.weight', [V, E]) : tokenEmbedding;
    return new LlamaModel(file, hp, tokenizer, { tokenEmbedding, blocks, outputNorm, output }, backend);
  }

  /** An empty KV cache for this model. */
  newCache(): KVCache {
    return new KVCache(this.hparams.blockCount, this.hparams.contextLength);
  }

  /**
   * The forward pass as a sequence of hook points: each `yield` hands out an intermediate and
   * takes an optional replacement. Returns the logits (lazy). Drive it with `forward`,
   * `runWithHooks`, or a `Stepper` to go one hook at a time.
   */
  *steps(tokens: ArrayLike<number>, options: ForwardOptions = {}): ForwardSteps {
    const hp = this.hparams;
    const w = this.weights;
    const mode = options.mode ?? 'float';
    const cache = options.cache;
    const start = cache?.length ?? 0;
    const T = tokens.length;
    if (T === 0) throw new Error('forward needs at least one token');
    if (start + T > hp.contextLength) {
      throw new Error(`${start + T} positions exceed the model's context length ${hp.contextLength}; shorten the prompt or start a new cache`);
    }
    const { headCount: H, headCountKV: KV, headDim: D, rmsEpsilon: eps } = hp;
    const G = H / KV; // query heads per KV head
    const emulate = mode === 'llama.cpp';
    const f16 = (t: Tensor) => (emulate ? t.roundF16() : t);
    // llama.cpp: kq_scale = 1.0f/sqrtf(n_embd_head), in float32 (src/llama-model.cpp).
    const kqScale = emulate ? Math.fround(1 / Math.fround(Math.sqrt(D))) : 1 / Math.sqrt(D);
    const linear = (x: Tensor, weight: Tensor) =>
      x.linear(weight, { activationType: mode === 'llama.cpp' ? ACTIVATION_TYPE[weight.dtype] ?? null : null });
    if (options.padAttention && !cache) throw new Error('padAttention pads the KV cache: pass a cache too');
    // Keys each token attends over: the padded cache, the cache so far, or this pass's own tokens.
    const keyCount = options.padAttention ? paddedKeys(start + T, cache!.capacity) : start + T;
    const inputValues = stepInputValues(tokens, start, options.padAttention ? keyCount : null);
    if (options.inputs) overwriteStepInputs(options.inputs, inputValues);
    const { ids, positions, mask } = options.inputs ?? uploadStepInputs(inputValues, this.backend);
    const rope = (x: Tensor) => x.rope(positions, { mode: 'norm', dims: hp.ropeDims, freqBase: hp.ropeFreqBase, freqScale: hp.ropeFreqScale });

    let x = yield* hook('hook_embed', Tensor.getRows(w.tokenEmbedding, ids)); // [T, E]

    for (let b = 0; b < hp.blockCount; b++) {
      const bw = w.blocks[b];
      const p = `blocks.${b}`;
      x = yield* hook(`${p}.hook_resid_pre`, x);

      // Attention
      const h = yield* hook(`${p}.ln1.hook_normalized`, x.rmsNorm(eps).mul(bw.attnNorm));
      const q = yield* hook(`${p}.attn.hook_q`, linear(h, bw.wq).reshape(T, H, D));
      const k = yield* hook(`${p}.attn.hook_k`, linear(h, bw.wk).reshape(T, KV, D));
      const v = yield* hook(`${p}.attn.hook_v`, linear(h, bw.wv).reshape(T, KV, D));
      const qRot = yield* hook(`${p}.attn.hook_rot_q`, rope(q));
      const kRot = yield* hook(`${p}.attn.hook_rot_k`, rope(k));
      const keys = cache ? cache.append(b, 'k', f16(kRot), positions).slice(0, 0, keyCount) : f16(kRot); // [Tk, KV, D]
      const values = cache ? cache.append(b, 'v', f16(v), positions).slice(0, 0, keyCount) : f16(v);
      const Tk = keyCount;
      // Group query heads by the KV head they share: [KV, G, T, D] x [KV, 1, D, Tk] -> [KV, G, T, Tk].
      const qByKv = f16(qRot).reshape(T, KV, G, D).permute(1, 2, 0, 3);
      const kByKv = keys.permute(1, 0, 2).reshape(KV, 1, Tk, D);
      const vByKv = values.permute(1, 0, 2).reshape(KV, 1, Tk, D);
      const scores = yield* hook(`${p}.attn.hook_attn_scores`, qByKv.matmul(kByKv.transpose(-1, -2), { ggml: emulate ? { innerPad: 1 } : null }).reshape(H, T, Tk));
      const masked = mask ? scores.add(mask) : scores;
      const pattern = yield* hook(`${p}.attn.hook_pattern`, masked.softmax({ scale: kqScale, causalOffset: mask ? null : start, ggml: emulate }));
      const perHead = f16(pattern).reshape(KV, G, T, Tk).matmul(vByKv, { ggml: emulate ? { innerPad: KV_PAD } : null }); // [KV, G, T, D]
      const z = yield* hook(`${p}.attn.hook_z`, perHead.permute(2, 0, 1, 3).reshape(T, H * D));
      const attnOut = yield* hook(`${p}.hook_attn_out`, linear(z, bw.wo));
      x = yield* hook(`${p}.hook_resid_mid`, x.add(attnOut));

      // Feed-forward (SwiGLU)
      const h2 = yield* hook(`${p}.ln2.hook_normalized`, x.rmsNorm(eps).mul(bw.ffnNorm));
      const gate = yield* hook(`${p}.mlp.hook_gate`, linear(h2, bw.wGate));
      const up = yield* hook(`${p}.mlp.hook_up`, linear(h2, bw.wUp));
      const post = yield* hook(`${p}.mlp.hook_post`, gate.silu().mul(up));
      const mlpOut = yield* hook(`${p}.hook_mlp_out`, linear(post, bw.wDown));
      x = yield* hook(`${p}.hook_resid_post`, x.add(mlpOut));
    }

    const last = options.logits === 'last' ? x.slice(0, T - 1, T) : x;
    const normed = yield* hook('ln_final.hook_normalized', last.rmsNorm(eps).mul(w.outputNorm));
    return yield* hook('hook_logits', linear(normed, w.output));
  }

  /** The logits (lazy) of a forward pass, with optional hooks that read or replace activations. */
  forward(tokens: ArrayLike<number>, options: ForwardOptions & { hooks?: Hooks } = {}): Tensor {
    const it = this.steps(tokens, options);
    // The forward's own ops are labelled by where in the pass they are (cheaper than a stack each);
    // ops a hook creates keep the hook's own stack.
    let step = createdIn('the LLaMA forward pass, before hook_embed', () => it.next());
    while (!step.done) {
      const { name, tensor } = step.value;
      const fn = options.hooks?.[name];
      const replacement = fn ? fn(tensor, name) ?? undefined : undefined;
      step = createdIn(`the LLaMA forward pass, after ${name}`, () => it.next(replacement));
    }
    if (options.cache) options.cache.commit(tokens.length);
    return step.value;
  }

  /**
   * Run and keep the activations at the named hook points (names, or globs such as
   * 'blocks.*.attn.hook_pattern'); everything is realized together, sharing work.
   */
  async runWithCache(tokens: ArrayLike<number>, options: ForwardOptions & { names?: readonly string[] } = {}): Promise<{ logits: Tensor; cache: Map<string, Tensor> }> {
    const all = hookPoints(this.hparams.blockCount).map((h) => h.name);
    const wanted = options.names ? new Set(options.names.flatMap((n) => matchHooks(all, n))) : null;
    const captured = new Map<string, Tensor>();
    const logits = this.forward(tokens, {
      ...options,
      hooks: new Proxy({} as Hooks, {
        get: (_target, name: string) => (t: Tensor) => {
          if (!wanted || wanted.has(name)) captured.set(name, t);
        },
      }),
    });
    await realize(logits, ...captured.values(), ...(options.cache?.tensors() ?? []));
    options.cache?.releaseRetired();
    return { logits, cache: captured };
  }

  /** Run with hooks that may read or replace activations (patching, ablation); returns realized logits. */
  async runWithHooks(tokens: ArrayLike<number>, hooks: Hooks, options: ForwardOptions = {}): Promise<Tensor> {
    const logits = this.forward(tokens, { ...options, hooks });
    await realize(logits, ...(options.cache?.tensors() ?? []));
    options.cache?.releaseRetired();
    return logits;
  }
}

/** Functions keyed by hook name; returning a tensor replaces the activation. */
export type Hooks = Record<string, (tensor: Tensor, name: string) => Tensor | void>;

function* hook(name: string, tensor: Tensor): Generator<HookEvent, Tensor, Tensor | undefined> {
  const replacement = yield { name, tensor };
  if (replacement && replacement.shape.join() !== tensor.shape.join()) {
    throw new Error(`hook ${name}: the replacement has shape ${shapeString(replacement.shape)} but the activation is ${shapeString(tensor.shape)}`);
  }
  return replacement ?? tensor;
}

function weightNames(file: GGUFFile, hp: LlamaHParams): string[] {
  const perBlock = ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down'];
  const names = ['token_embd.weight', ...Array.from({ length: hp.blockCount }, (_, b) => perBlock.map((n) => `blk.${b}.${n}.weight`)).flat(), 'output_norm.weight'];
  if (file.tensors.some((t) => t.name === 'output.weight')) names.push('output.weight');
  const missing = names.filter((n) => !file.tensors.some((t) => t.name === n));
  if (missing.length) throw new Error(`${file.path} lacks tensors a ${hp.arch} model needs: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  return names;
}
