// Decoding one token at a time without building a graph per token: the first step at each padded
// attention length (ForwardOptions.padAttention: its shapes are fixed for ATTENTION_PAD = 64
// positions) is built and realized as usual while a Plan records its kernels; every following
// step only overwrites the inputs (token id, position, mask) and replays the plan. Past those
// positions, or when the cache's buffers grow, a new plan is recorded. The values are
// model.forward's with the cache.
import { Plan, type Tensor } from '../tensor';
import type { LlamaModel, NumericMode } from './llama';
import type { KVCache } from './kv-cache';
import { overwriteStepInputs, paddedKeys, stepInputValues, uploadStepInputs, type StepInputs } from './step-inputs';

interface Recorded {
  keys: number;
  cacheVersion: number;
  plan: Plan;
  inputs: StepInputs;
  logits: Tensor;
}

export class Decoder {
  private recorded: Recorded | null = null;
  /** Plans recorded so far (one per ATTENTION_PAD positions). */
  recordings = 0;

  constructor(
    readonly model: LlamaModel,
    readonly cache: KVCache,
    readonly mode: NumericMode = 'float',
  ) {}

  /** Feed `token` at the cache's next position; returns the logits [vocabulary] that follow it. */
  async step(token: number): Promise<Float32Array> {
    const start = this.cache.length;
    const keys = paddedKeys(start + 1, this.cache.capacity);
    const r = this.recorded;
    if (r && r.keys === keys && r.cacheVersion === this.cache.version && start + 1 <= this.cache.capacity) {
      overwriteStepInputs(r.inputs, stepInputValues([token], start, keys));
      r.plan.replay();
      this.cache.commit(1);
      return (await r.logits.data()) as Float32Array;
    }
    this.dispose();
    const inputs = uploadStepInputs(stepInputValues([token], start, keys), this.model.backend);
    const logits = this.model.forward([token], { mode: this.mode, cache: this.cache, logits: 'last', padAttention: true, inputs });
    const plan = await Plan.record([logits, ...this.cache.tensors()]);
    this.cache.releaseRetired();
    this.recorded = { keys, cacheVersion: this.cache.version, plan, inputs, logits };
    this.recordings++;
    return (await logits.data()) as Float32Array;
  }

  /** Free the recorded plan's buffers (the cache stays). */
  dispose(): void {
    this.recorded?.plan.dispose();
    this.recorded?.logits.dispose();
    this.recorded = null;
  }
}
