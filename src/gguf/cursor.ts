// Sequential little-endian reads over a ByteSource, through a small window that grows as needed,
// so that parsing a header costs a few reads whatever the file size. Every read is bounds-checked
// against the file size before anything is allocated: a hostile length fails here, fast.
import { GGUFError } from './errors';
import type { ByteSource } from './source';

const INITIAL_WINDOW = 1 << 16;
const MAX_WINDOWED_READ = 1 << 20;

export class Cursor {
  private window: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.window.buffer);
  private windowStart = 0;
  /** Absolute position of the next read. */
  pos = 0;

  constructor(private readonly source: ByteSource) {}

  get remaining(): number {
    return this.source.size - this.pos;
  }

  /** Make [pos, pos + n) readable from the window; `what` names the field for the error message. */
  private ensure(n: number, what: string): number {
    if (n > this.remaining) {
      throw new GGUFError(
        'TRUNCATED',
        `the file ends while reading ${what}: it needs ${n} bytes at offset ${this.pos} but only ${this.remaining} remain` +
          ` (file size ${this.source.size}); the file is truncated or corrupt`,
        { offset: this.pos, numbers: { needed: n, remaining: this.remaining, fileSize: this.source.size } },
      );
    }
    const rel = this.pos - this.windowStart;
    if (rel >= 0 && rel + n <= this.window.length) return rel;
    const length = Math.min(Math.max(n, INITIAL_WINDOW, this.window.length * 2), this.remaining);
    this.window = this.source.read(this.pos, length);
    this.view = new DataView(this.window.buffer, this.window.byteOffset, this.window.byteLength);
    this.windowStart = this.pos;
    return 0;
  }

  u8(what: string): number {
    const r = this.ensure(1, what);
    this.pos += 1;
    return this.window[r];
  }
  u32(what: string): number {
    const r = this.ensure(4, what);
    this.pos += 4;
    return this.view.getUint32(r, true);
  }
  u64(what: string): bigint {
    const r = this.ensure(8, what);
    this.pos += 8;
    return this.view.getBigUint64(r, true);
  }
  i64(what: string): bigint {
    const r = this.ensure(8, what);
    this.pos += 8;
    return this.view.getBigInt64(r, true);
  }

  /** A copy of the next n bytes. */
  bytes(n: number, what: string): Uint8Array {
    if (n > this.remaining || n <= MAX_WINDOWED_READ) {
      const r = this.ensure(n, what);
      this.pos += n;
      return this.window.slice(r, r + n);
    }
    const out = this.source.read(this.pos, n).slice();
    this.pos += n;
    return out;
  }

  /**
   * A count or length stored as u64, checked so that `count * minBytesEach` still fits in the rest
   * of the file: an array count of 2^40 fails here instead of allocating.
   */
  count(what: string, minBytesEach: number, code: 'COUNT_OUT_OF_RANGE' | 'LENGTH_OUT_OF_RANGE'): number {
    const at = this.pos;
    const raw = this.u64(what);
    const limit = BigInt(Math.floor(this.remaining / Math.max(minBytesEach, 1)));
    if (raw > limit) {
      throw new GGUFError(
        code,
        `${what} at offset ${at} is ${raw}, but the ${this.remaining} bytes left in the file can hold at most ${limit}` +
          ` (${minBytesEach} byte(s) each); the file is corrupt or not what it claims`,
        { offset: at, numbers: { value: raw, max: limit, remaining: this.remaining } },
      );
    }
    return Number(raw);
  }
}
