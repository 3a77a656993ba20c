// Freed kernel outputs are kept for reuse: a decoding loop allocates the same sizes token after
// token, and creating GPU buffers is far slower than taking one from a list. The pool holds at
// most `limitBytes`; `drain` hands everything back for destruction (trim, destroy).
//
// `take` gives the oldest pooled buffer of the size, not the last freed: then a pass that starts
// with the same buffers free as the previous one gets every result in the same buffer again, and
// the batch's cached bind groups (keyed by buffer) serve it. Last-freed-first permutes the buffers
// from one token to the next, and each permutation needs new bind groups.
export class BufferPool {
  /** Per size, pooled buffers sorted by age, youngest first (so `pop` takes the oldest). */
  private readonly bySize = new Map<number, GPUBuffer[]>();
  private readonly age = new WeakMap<GPUBuffer, number>();
  private nextAge = 0;
  bytes = 0;

  constructor(readonly limitBytes: number) {}

  take(size: number): GPUBuffer | undefined {
    const list = this.bySize.get(size);
    const buffer = list?.pop();
    if (buffer) this.bytes -= size;
    return buffer;
  }

  /** Keep `buffer` for reuse; false when the pool is full (the caller destroys it). */
  put(buffer: GPUBuffer): boolean {
    if (this.bytes + buffer.size > this.limitBytes) return false;
    let list = this.bySize.get(buffer.size);
    if (!list) this.bySize.set(buffer.size, (list = []));
    let age = this.age.get(buffer);
    if (age === undefined) this.age.set(buffer, (age = this.nextAge++));
    let at = list.length;
    while (at > 0 && this.age.get(list[at - 1])! < age) at--;
    list.splice(at, 0, buffer);
    this.bytes += buffer.size;
    return true;
  }

  drain(): GPUBuffer[] {
    const all = [...this.bySize.values()].flat();
    this.bySize.clear();
    this.bytes = 0;
    return all;
  }
}

/**
 * The size a result buffer of `bytes` gets: a multiple of 256 bytes, and one of four sizes per
 * power of two above 1 KiB (at most 25% more), so a tensor that grows a little every token (the
 * attention scores) finds the buffer freed a few tokens earlier in the pool instead of asking the
 * device for a new one.
 */
export function sizeClass(bytes: number): number {
  const step = Math.max(256, 2 ** (Math.floor(Math.log2(Math.max(bytes, 1))) - 2));
  return Math.ceil(bytes / step) * step;
}
