// What a forward pass reads besides the weights and the KV cache: the token ids, their positions,
// and — when attention runs over the cache padded to a fixed length — the mask hiding the padding.
// They are device tensors either made per pass or kept and overwritten (a decoder's recorded plan
// reads the same tensors every step).
import { Tensor, type Backend } from '../tensor';

export interface StepInputs {
  ids: Tensor;
  positions: Tensor;
  /** [tokens, keys]: 0 where token i may attend to key j (j <= its position), -Infinity elsewhere. */
  mask: Tensor | null;
}

export interface StepInputValues {
  ids: Int32Array;
  positions: Int32Array;
  mask: Float32Array | null;
}

/**
 * llama.cpp's KV cache length n_kv is a multiple of 256 (llama_kv_cache::get_n_kv in
 * src/llama-kv-cache.cpp); its zero tail decides which of ggml's SIMD loops the P·V products fall
 * in (MatmulArgs.ggml.innerPad emulates that, whatever length we attend over).
 */
export const KV_PAD = 256;

/**
 * A padded pass attends over a multiple of this many keys (or the whole context, if shorter), so
 * its shapes change once per ATTENTION_PAD positions. Masked keys add exact zeros, so the values
 * do not depend on it; it trades attention over unused keys (half of it on average) against
 * recording a decoder's plan more often (~15 ms each for TinyLlama). Measured on TinyLlama Q4_0
 * decoding positions 128-176: q·K, softmax and P·V 5.8 ms a token over 256 keys, 3.8 over 192.
 */
export const ATTENTION_PAD = 64;

/** Keys a padded pass attends over when the cache will hold `end` positions of `capacity`. */
export function paddedKeys(end: number, capacity: number): number {
  return Math.min(Math.ceil(end / ATTENTION_PAD) * ATTENTION_PAD, capacity);
}

/** Values for `tokens` placed from position `start` on; the mask only when attending over `keys` padded keys. */
export function stepInputValues(tokens: ArrayLike<number>, start: number, keys: number | null): StepInputValues {
  const T = tokens.length;
  const positions = Int32Array.from({ length: T }, (_, i) => start + i);
  let mask: Float32Array | null = null;
  if (keys !== null) {
    mask = new Float32Array(T * keys);
    for (let i = 0; i < T; i++) mask.fill(-Infinity, i * keys + start + i + 1, (i + 1) * keys);
  }
  return { ids: Int32Array.from(tokens), positions, mask };
}

/** New device tensors holding `values`. */
export function uploadStepInputs(values: StepInputValues, backend: Backend): StepInputs {
  const T = values.ids.length;
  return {
    ids: Tensor.from(values.ids, [T], { dtype: 'i32', backend }),
    positions: Tensor.from(values.positions, [T], { dtype: 'i32', backend }),
    mask: values.mask ? Tensor.from(values.mask, [T, values.mask.length / T], { backend }) : null,
  };
}

/** `inputs` given `values` in place (the same shapes: a plan recorded with them reads them next). */
export function overwriteStepInputs(inputs: StepInputs, values: StepInputValues): void {
  const masks = [inputs.mask?.size ?? 0, values.mask?.length ?? 0];
  if (inputs.ids.size !== values.ids.length || masks[0] !== masks[1]) {
    throw new Error(`these step inputs hold ${inputs.ids.size} tokens and ${masks[0]} mask values, not ${values.ids.length} and ${masks[1]}: upload new ones (uploadStepInputs)`);
  }
  inputs.ids.overwrite(values.ids);
  inputs.positions.overwrite(values.positions);
  if (values.mask) inputs.mask!.overwrite(values.mask);
}
