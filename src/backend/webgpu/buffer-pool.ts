// Freed kernel outputs are kept for reuse: a decoding loop allocates the same sizes token after
// token, and creating GPU buffers is far slower than taking one from a list. The pool holds at
// most `limitBytes`; `drain` hands everything back for destruction (trim, destroy).
export class BufferPool {
  private readonly bySize = new Map<number, GPUBuffer[]>();
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
    list.push(buffer);
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
