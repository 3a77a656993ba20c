// Where a GGUF file's bytes come from: a file read by range (never whole), or bytes in memory.
import * as fs from 'node:fs';
import { GGUFError } from './errors';

export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset + length); the caller has checked the range lies inside `size`. */
  read(offset: number, length: number): Uint8Array;
  /** Bytes [offset, offset + target.length) written into `target` (no copy of its own). */
  readInto(offset: number, target: Uint8Array): void;
  /** The open file and position byte `offset` is read from, for readers of their own (null: not a file). */
  fileRange(offset: number): { fd: number; position: number } | null;
  close(): void;
}

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | null;

  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
      this.size = fs.fstatSync(this.fd).size;
    } catch (e) {
      throw new GGUFError('IO', `cannot open ${path}: ${(e as Error).message}`);
    }
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(offset, out);
    return out;
  }

  readInto(offset: number, out: Uint8Array): void {
    if (this.fd === null) throw new GGUFError('IO', `${this.path} was closed; open it again with openGGUF`);
    const length = out.length;
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) {
        throw new GGUFError('IO', `${this.path} shrank while reading: got ${done} of ${length} bytes at offset ${offset}`, {
          offset,
        });
      }
      done += n;
    }
  }

  fileRange(offset: number): { fd: number; position: number } | null {
    return this.fd === null ? null : { fd: this.fd, position: offset };
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }
  readInto(offset: number, target: Uint8Array): void {
    target.set(this.bytes.subarray(offset, offset + target.length));
  }
  fileRange(): null {
    return null;
  }
  close(): void {}
}
