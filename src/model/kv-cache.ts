// Keys and values of past positions, per block: K and V are [positions, kvHeads, headDim] tensors
// (after RoPE for K). A forward pass appends its tokens' keys and values; `commit` makes them the
// cache's contents once the pass is built, and the old tensors are freed after the next realize.
import type { Tensor } from '../tensor';
import { Tensor as T } from '../tensor';

export class KVCache {
  /** Positions held (the next token's position). */
  length = 0;
  private readonly current: { k: Tensor | null; v: Tensor | null }[];
  private staged: { k: Tensor | null; v: Tensor | null }[];
  private retired: Tensor[] = [];

  constructor(
    readonly blocks: number,
    readonly capacity: number,
  ) {
    this.current = Array.from({ length: blocks }, () => ({ k: null, v: null }));
    this.staged = Array.from({ length: blocks }, () => ({ k: null, v: null }));
  }

  /** Keys (or values) of block `b`: everything cached, then `fresh` [tokens, kvHeads, headDim]. */
  append(b: number, which: 'k' | 'v', fresh: Tensor): Tensor {
    const past = this.current[b][which];
    const all = past ? T.concat([past, fresh], 0) : fresh;
    this.staged[b][which] = all;
    return all;
  }

  /** Make the appended keys and values the cache's contents. */
  commit(tokens: number): void {
    for (let b = 0; b < this.blocks; b++) {
      for (const which of ['k', 'v'] as const) {
        const next = this.staged[b][which];
        if (!next) continue;
        const old = this.current[b][which];
        if (old) this.retired.push(old);
        this.current[b][which] = next;
        this.staged[b][which] = null;
      }
    }
    this.length += tokens;
  }

  /** The cached tensors, to be realized together with a forward pass's outputs. */
  tensors(): Tensor[] {
    return this.current.flatMap((c) => [c.k, c.v]).filter((t): t is Tensor => t !== null);
  }

  /** Free the device buffers of tensors the cache no longer uses (after the new ones are realized). */
  releaseRetired(): void {
    for (const t of this.retired) t.dispose();
    this.retired = [];
  }

  /** Block b's keys or values as a tensor [positions, kvHeads, headDim] (null before the first pass). */
  get(b: number, which: 'k' | 'v'): Tensor | null {
    return this.current[b][which];
  }
}
