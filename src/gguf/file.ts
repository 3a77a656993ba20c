// An open GGUF file: metadata, tensor directory, and tensor bytes read by range on demand.

import type { ByteSource } from './source';
import type { GGUFError } from './errors';
import { plainValue, type GGUFValue } from './values';
import type { GGMLTypeInfo } from '../quant/types';
import { codecTypes } from '../quant/types';

export interface GGUFTensorInfo {
  readonly name: string;
  /** The type's table row (for an id ggml does not define: a row named UNKNOWN(id) with size 0). */
  readonly type: GGMLTypeInfo;
  readonly typeId: number;
  /** Dimensions as stored (innermost first), exact. */
  readonly ne: readonly bigint[];
  /** Dimensions as numbers (innermost first): shape[0] is the row length. */
  readonly shape: readonly number[];
  readonly nElements: number;
  /** Offset inside the data section, as stored. */
  readonly relativeOffset: number;
  readonly rawRelativeOffset: bigint;
  /** Absolute offset of the tensor's bytes in the file. */
  offset: number;
  /** Bytes the shape needs in this type: blocks x bytes per block. */
  readonly nBytes: number;
  /** Where this tensor's directory entry starts in the file. */
  readonly infoOffset: number;
}

/** What a byte offset of the file belongs to. */
export type FileRegion =
  | { kind: 'header' }
  | { kind: 'padding' }
  | { kind: 'tensor'; tensor: GGUFTensorInfo; offsetInTensor: number }
  | { kind: 'outside' };

export class GGUFFile {
  constructor(
    private readonly source: ByteSource,
    readonly path: string,
    readonly version: number,
    readonly metadata: ReadonlyMap<string, GGUFValue>,
    readonly tensors: readonly GGUFTensorInfo[],
    readonly alignment: number,
    /** Header, metadata and tensor directory end here. */
    readonly directoryEnd: number,
    /** The data section (tensor bytes) starts here. */
    readonly dataOffset: number,
    /** Problems found in the directory (empty for a sound file; see OpenOptions.strict). */
    readonly problems: readonly GGUFError[],
  ) {
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  private readonly byName: Map<string, GGUFTensorInfo>;

  get fileSize(): number {
    return this.source.size;
  }

  /** A metadata value as plain JavaScript (arrays as their items), or undefined if absent. */
  get(key: string): unknown {
    const v = this.metadata.get(key);
    return v === undefined ? undefined : plainValue(v);
  }

  /** The tensor with this name; the error lists close names when there is none. */
  tensor(name: string): GGUFTensorInfo {
    const t = this.byName.get(name);
    if (t) return t;
    const close = this.tensors
      .map((x) => x.name)
      .filter((n) => n.includes(name) || name.includes(n.replace(/\.weight$/, '')))
      .slice(0, 5);
    const hint = close.length ? ` Did you mean ${close.map((n) => `'${n}'`).join(', ')}?` : ` It has ${this.tensors.length} tensors; list them with file.tensors.`;
    throw new Error(`${this.path} has no tensor named '${name}'.${hint}`);
  }

  /** Raw bytes [offset, offset + length) of the file, clipped to its end. */
  readBytes(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.source.size));
    const end = Math.max(start, Math.min(offset + length, this.source.size));
    return this.source.read(start, end - start);
  }

  /** A tensor's bytes exactly as stored. */
  readTensorBytes(tensor: string | GGUFTensorInfo): Uint8Array {
    const t = typeof tensor === 'string' ? this.tensor(tensor) : tensor;
    this.assertReadable(t);
    return this.source.read(t.offset, t.nBytes);
  }

  /** A tensor's bytes as stored, written into `target` (exactly its byte size): no copy in between. */
  readTensorInto(tensor: string | GGUFTensorInfo, target: Uint8Array): void {
    const t = typeof tensor === 'string' ? this.tensor(tensor) : tensor;
    this.assertReadable(t);
    if (target.length !== t.nBytes) throw new RangeError(`${t.name} has ${t.nBytes} bytes; the target holds ${target.length}`);
    this.source.readInto(t.offset, target);
  }

  /** Where a tensor's bytes are in the open file (null for a file in memory), for readers of their own (Backend.uploadWith). */
  tensorFileRange(tensor: string | GGUFTensorInfo): { fd: number; position: number } | null {
    const t = typeof tensor === 'string' ? this.tensor(tensor) : tensor;
    this.assertReadable(t);
    return this.source.fileRange(t.offset);
  }

  /** In a file opened with strict: false, a tensor whose bytes are not all in the file cannot be read. */
  private assertReadable(t: GGUFTensorInfo): void {
    const problem = this.problems.find((p) => p.details.tensor === t.name);
    if (problem) throw problem;
  }

  /** Number of rows (a row is shape[0] consecutive values). */
  rowCount(tensor: string | GGUFTensorInfo): number {
    const t = typeof tensor === 'string' ? this.tensor(tensor) : tensor;
    return t.nElements / (t.shape[0] ?? 1);
  }

  /** Bytes of rows [start, end) as stored. */
  readRowBytes(tensor: string | GGUFTensorInfo, start: number, end: number): Uint8Array {
    const t = typeof tensor === 'string' ? this.tensor(tensor) : tensor;
    this.assertReadable(t);
    const rows = this.rowCount(t);
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows)) {
      throw new RangeError(`rows ${start}:${end} are outside '${t.name}', which has rows 0:${rows}`);
    }
    const rowBytes = t.nBytes / rows;
    return this.source.read(t.offset + start * rowBytes, (end - start) * rowBytes);
  }

  /** Rows [start, end) dequantized to float32 (default: the whole tensor). */
  readRows(tensor: string | GGUFTensorInfo, start = 0, end?: number): Float32Array {
    const t = typeof tensor === 'string' ? this.tensor(tensor) : tensor;
    const codec = t.type.codec;
    if (!codec) {
      const supported = codecTypes().map((x) => x.name).join(', ');
      throw new Error(`'${t.name}' is ${t.type.name}, which llamascope can size but not decode yet; it decodes ${supported}`);
    }
    const last = end ?? this.rowCount(t);
    const bytes = this.readRowBytes(t, start, last);
    const out = new Float32Array((last - start) * (t.shape[0] ?? 1));
    codec.dequantize(bytes, out);
    return out;
  }

  /** What the byte at `offset` belongs to: header/directory, alignment padding, or a tensor. */
  regionAt(offset: number): FileRegion {
    if (offset < 0 || offset >= this.source.size) return { kind: 'outside' };
    if (offset < this.directoryEnd) return { kind: 'header' };
    for (const t of this.tensors) {
      if (offset >= t.offset && offset < t.offset + t.nBytes) return { kind: 'tensor', tensor: t, offsetInTensor: offset - t.offset };
    }
    return { kind: 'padding' };
  }

  close(): void {
    this.source.close();
  }
}
