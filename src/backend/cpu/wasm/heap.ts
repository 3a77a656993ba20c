// The CPU fast path's memory: one shared WebAssembly.Memory that the WASM kernels on every thread
// address directly, and a first-fit allocator over it. Buffers are 64-byte aligned (cache lines,
// and any SIMD load), freed ranges merge with their neighbours, and a freed range at the top lowers
// the top, so a decode loop that allocates the same sizes every token reuses the same memory.

const PAGE = 65536;
const ALIGN = 64;
/** wasm32 addresses at most 4 GiB. */
const MAX_PAGES = 65536;

export interface HeapRange {
  offset: number;
  bytes: number;
}

export class HeapExhausted extends Error {
  constructor(
    readonly requested: number,
    readonly held: number,
  ) {
    super(`the WASM heap cannot grow by ${requested} bytes (${held} bytes held, 4 GiB is wasm32's limit)`);
  }
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  /** Bytes in live allocations. */
  held = 0;
  private top: number;
  /** Free ranges below `top`, sorted by offset, never adjacent. */
  private readonly free: HeapRange[] = [];

  constructor(heapBase: number, initialPages: number) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
    this.top = align(heapBase);
  }

  /** Reserve `bytes` (rounded up to 64); returns the byte offset. Throws HeapExhausted. */
  allocate(bytes: number): number {
    const size = align(Math.max(bytes, 1));
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.bytes >= size && (best < 0 || f.bytes < this.free[best].bytes)) best = i;
    }
    this.held += size;
    if (best >= 0) {
      const f = this.free[best];
      const offset = f.offset;
      if (f.bytes === size) this.free.splice(best, 1);
      else {
        f.offset += size;
        f.bytes -= size;
      }
      return offset;
    }
    const offset = this.top;
    const end = offset + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch {
        this.held -= size;
        throw new HeapExhausted(size, this.held);
      }
    }
    this.top = end;
    return offset;
  }

  /** Whether allocating `bytes` now would have to grow the memory (no free range fits). */
  wouldGrow(bytes: number): boolean {
    const size = align(Math.max(bytes, 1));
    return !this.free.some((f) => f.bytes >= size) && this.top + size > this.memory.buffer.byteLength;
  }

  release(offset: number, bytes: number): void {
    const size = align(Math.max(bytes, 1));
    this.held -= size;
    let i = 0;
    while (i < this.free.length && this.free[i].offset < offset) i++;
    const range = { offset, bytes: size };
    const before = this.free[i - 1];
    if (before && before.offset + before.bytes === offset) {
      before.bytes += size;
      i--;
    } else this.free.splice(i, 0, range);
    const merged = this.free[i];
    const after = this.free[i + 1];
    if (after && merged.offset + merged.bytes === after.offset) {
      merged.bytes += after.bytes;
      this.free.splice(i + 1, 1);
    }
    const last = this.free[this.free.length - 1];
    if (last && last.offset + last.bytes === this.top) {
      this.top = last.offset;
      this.free.pop();
    }
  }

  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }

  u8(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, offset, length);
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
