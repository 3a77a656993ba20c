// Keys and values of past positions, per block: K and V are [positions, kvHeads, headDim] tensors
// (after RoPE for K). Each lives in one preallocated buffer per block that a pass writes its new
// rows into in place, at the rows its positions tensor names (Tensor.writeRows), so a decode step
// allocates and copies nothing but its own token's rows, and its graph does not depend on where
// they go. Buffers start at ROWS_AT_FIRST positions and double when full (the old rows are copied
// once), up to the model's context length; rows not yet written hold zeros.
import type { Tensor } from '../tensor';
import { Tensor as T } from '../tensor';

const ROWS_AT_FIRST = 256;

interface Slot {
  /** The buffer: [rows, kvHeads, headDim]. */
  storage: Tensor;
  /** The last write of a pass not yet realized: later writes chain onto it so none is lost. */
  pending: Tensor | null;
}

export class KVCache {
  /** Positions held (the next token's position). */
  length = 0;
  /** Changes whenever a block's buffer is replaced by a larger one (a recorded plan that wrote the old one is stale). */
  version = 0;
  private readonly slots: { k: Slot | null; v: Slot | null }[];

  constructor(
    readonly blocks: number,
    readonly capacity: number,
  ) {
    this.slots = Array.from({ length: blocks }, () => ({ k: null, v: null }));
  }

  /**
   * Block `b`'s whole key (or value) buffer [rows, kvHeads, headDim] with `fresh` [tokens, kvHeads,
   * headDim] written at `positions` (i32 [tokens], from `length` on): rows below `length` + tokens
   * are the cache's, the rest zeros.
   */
  append(b: number, which: 'k' | 'v', fresh: Tensor, positions: Tensor): Tensor {
    const end = this.length + fresh.shape[0];
    if (end > this.capacity) throw new Error(`the KV cache holds ${this.capacity} positions; ${end} were asked for`);
    let slot = this.slots[b][which];
    if (!slot || slot.storage.shape[0] < end) slot = this.slots[b][which] = this.grow(slot, end, fresh);
    slot.pending = (slot.pending ?? slot.storage).writeRows(fresh, positions);
    return slot.pending;
  }

  /** Make the appended keys and values the cache's contents. */
  commit(tokens: number): void {
    this.length += tokens;
  }

  /** The pending writes, to be realized together with a forward pass's outputs. */
  tensors(): Tensor[] {
    return this.slots.flatMap((s) => [s.k?.pending, s.v?.pending]).filter((t): t is Tensor => !!t);
  }

  /** After the pass is realized: its writes are in the buffers. */
  releaseRetired(): void {
    for (const s of this.slots) {
      for (const slot of [s.k, s.v]) if (slot?.pending?.node.buffer) slot.pending = null;
    }
  }

  /** Block b's keys or values as a tensor [positions, kvHeads, headDim] (null before the first pass). */
  get(b: number, which: 'k' | 'v'): Tensor | null {
    const slot = this.slots[b][which];
    return slot && this.length > 0 ? (slot.pending ?? slot.storage).slice(0, 0, this.length) : null;
  }

  /** A buffer of at least `rows` positions (doubling), holding the rows cached so far. */
  private grow(slot: Slot | null, rows: number, like: Tensor): Slot {
    let size = Math.max(slot?.storage.shape[0] ?? ROWS_AT_FIRST, ROWS_AT_FIRST);
    while (size < rows) size *= 2;
    size = Math.min(size, this.capacity);
    const storage = T.zeros([size, ...like.shape.slice(1)], { backend: like.backend });
    this.version++;
    if (!slot || this.length === 0) return { storage, pending: null };
    const old = (slot.pending ?? slot.storage).slice(0, 0, this.length);
    return { storage, pending: storage.write(old.reshape(old.size), 0) };
  }
}
