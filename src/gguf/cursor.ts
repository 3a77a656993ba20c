// Sequential little-endian reads over a ByteSource, through a small window that grows as needed,
// so that parsing a header costs a few reads whatever the file size. Every read is bounds-checked
// against the file size before anything is allocated: a hostile length fails here, fast.
import { GGUFError } from './errors';
import type { ByteSource } from './source';

const INITIAL_WINDOW = 1 << 16;
// ignoreBOM: a token that starts with U+FEFF keeps it (the default decoder would drop it).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
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
   * The next `n` strings (u64 length, UTF-8 bytes). A vocabulary holds tens of thousands of short
   * strings: each is decoded straight from the window, and only one that is not wholly inside it
   * (or is malformed) takes the general path — with `describe(i)` naming it in the error.
   */
  strings(n: number, describe: (i: number) => string): string[] {
    const items: string[] = []; // grown as read: each item needs bytes the file must hold
    for (let i = 0; i < n; i++) {
      const rel = this.pos - this.windowStart;
      if (rel >= 0 && rel + 8 <= this.window.length && this.view.getUint32(rel + 4, true) === 0) {
        const length = this.view.getUint32(rel, true);
        const start = rel + 8;
        if (start + length <= this.window.length) {
          this.pos += 8 + length;
          items.push(decodeUtf8(this.window, start, length));
          continue;
        }
      }
      items.push(this.string(describe(i)));
    }
    return items;
  }

  /** The next string (u64 length, UTF-8 bytes); `what` names it in errors. */
  string(what: string): string {
    const length = this.count(`the length of ${what}`, 1, 'LENGTH_OUT_OF_RANGE');
    return decodeUtf8(this.bytes(length, what), 0, length);
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

/** UTF-8 bytes [start, start + length) as a string; pure ASCII (most tokens) without a TextDecoder call. */
function decodeUtf8(bytes: Uint8Array, start: number, length: number): string {
  if (length <= 32) {
    let ascii = true;
    for (let i = start; i < start + length; i++) if (bytes[i] >= 0x80) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, start + length) as unknown as number[]);
  }
  return utf8.decode(bytes.subarray(start, start + length));
}
