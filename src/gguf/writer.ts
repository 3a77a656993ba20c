// GGUF v3 writer, laid out as llama.cpp's gguf_write_to_file does: header, metadata in the given
// order, tensor directory with each tensor's data offset padded to the alignment, zero padding to
// the alignment, then every tensor's bytes followed by zero padding to the alignment.
// Tensor bytes may be produced one tensor at a time (a function), so a large model never has to be
// in memory at once.

import * as fs from 'node:fs';
import { GGUFValueType, isValueType, minEncodedSize, type GGUFArray, type GGUFScalar, type GGUFValue } from './values';
import { DEFAULT_ALIGNMENT, GGUF_MAGIC, alignUp } from './format';
import { KEY_ALIGNMENT } from './keys';
import { byteSize, typeByName, type GGMLTypeInfo } from '../quant/types';

export interface TensorToWrite {
  name: string;
  type: GGMLTypeInfo | string;
  /** Dimensions, innermost first (GGUF order). */
  shape: readonly number[];
  /** The encoded bytes, or a function producing them when the writer reaches this tensor. */
  data: Uint8Array | (() => Uint8Array);
}

export interface GGUFContents {
  /** Metadata in file order. general.alignment, if present, sets the alignment. */
  metadata: Iterable<[string, GGUFValue]>;
  tensors: readonly TensorToWrite[];
}

/** Build metadata values without spelling out value types. */
export const meta = {
  u8: (v: number): GGUFValue => ({ type: GGUFValueType.UINT8, value: v }),
  i8: (v: number): GGUFValue => ({ type: GGUFValueType.INT8, value: v }),
  u16: (v: number): GGUFValue => ({ type: GGUFValueType.UINT16, value: v }),
  i16: (v: number): GGUFValue => ({ type: GGUFValueType.INT16, value: v }),
  u32: (v: number): GGUFValue => ({ type: GGUFValueType.UINT32, value: v }),
  i32: (v: number): GGUFValue => ({ type: GGUFValueType.INT32, value: v }),
  u64: (v: bigint): GGUFValue => ({ type: GGUFValueType.UINT64, value: v }),
  i64: (v: bigint): GGUFValue => ({ type: GGUFValueType.INT64, value: v }),
  f32: (v: number): GGUFValue => ({ type: GGUFValueType.FLOAT32, value: v }),
  f64: (v: number): GGUFValue => ({ type: GGUFValueType.FLOAT64, value: v }),
  bool: (v: boolean): GGUFValue => ({ type: GGUFValueType.BOOL, value: v }),
  str: (v: string): GGUFValue => ({ type: GGUFValueType.STRING, value: v }),
  strings: (v: string[]): GGUFValue => ({ type: GGUFValueType.ARRAY, value: { itemType: GGUFValueType.STRING, items: v } }),
  f32s: (v: ArrayLike<number>): GGUFValue => ({ type: GGUFValueType.ARRAY, value: { itemType: GGUFValueType.FLOAT32, items: Float32Array.from(v) } }),
  i32s: (v: ArrayLike<number>): GGUFValue => ({ type: GGUFValueType.ARRAY, value: { itemType: GGUFValueType.INT32, items: Int32Array.from(v) } }),
  array: (itemType: GGUFValueType, items: GGUFArray['items']): GGUFValue => ({ type: GGUFValueType.ARRAY, value: { itemType, items } }),
};

/** Write a GGUF file to `path`, streaming tensor data. */
export function writeGGUF(path: string, contents: GGUFContents): void {
  const fd = fs.openSync(path, 'w');
  try {
    emit(contents, (chunk) => {
      let done = 0;
      while (done < chunk.length) done += fs.writeSync(fd, chunk, done, chunk.length - done);
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** The bytes of a GGUF file, in memory (tests, small models). */
export function encodeGGUF(contents: GGUFContents): Uint8Array {
  const chunks: Uint8Array[] = [];
  emit(contents, (c) => chunks.push(c.slice()));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function emit(contents: GGUFContents, write: (chunk: Uint8Array) => void): void {
  const metadata = [...contents.metadata];
  const alignmentEntry = metadata.find(([k]) => k === KEY_ALIGNMENT)?.[1];
  const alignment = alignmentEntry ? Number(alignmentEntry.value) : DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new Error(`${KEY_ALIGNMENT} must be a power of two, got ${String(alignmentEntry?.value)}`);
  }

  const head = new ByteWriter();
  head.u32(GGUF_MAGIC);
  head.u32(3);
  head.u64(BigInt(contents.tensors.length));
  head.u64(BigInt(metadata.length));
  for (const [key, value] of metadata) {
    head.string(key);
    head.u32(value.type);
    writeValue(head, value.type, value.value, key);
  }

  const sizes: number[] = [];
  let dataSize = 0;
  for (const t of contents.tensors) {
    const type = resolveType(t);
    const nElements = t.shape.reduce((a, b) => a * b, 1);
    const nBytes = byteSize(type, nElements);
    if (t.shape[0] % type.blockSize !== 0) {
      throw new Error(`tensor '${t.name}': rows of ${t.shape[0]} values are not whole ${type.blockSize}-value ${type.name} blocks`);
    }
    head.string(t.name);
    head.u32(t.shape.length);
    for (const d of t.shape) head.u64(BigInt(d));
    head.u32(type.id);
    head.u64(BigInt(dataSize));
    sizes.push(nBytes);
    dataSize += alignUp(nBytes, alignment);
  }
  head.zeros(alignUp(head.length, alignment) - head.length);
  write(head.bytes());

  contents.tensors.forEach((t, i) => {
    const data = typeof t.data === 'function' ? t.data() : t.data;
    if (data.length !== sizes[i]) {
      throw new Error(`tensor '${t.name}': got ${data.length} bytes of data, but its shape and type need ${sizes[i]}`);
    }
    write(data);
    const pad = alignUp(data.length, alignment) - data.length;
    if (pad) write(new Uint8Array(pad));
  });
}

function resolveType(t: TensorToWrite): GGMLTypeInfo {
  if (typeof t.type !== 'string') return t.type;
  const type = typeByName(t.type);
  if (!type) throw new Error(`tensor '${t.name}': unknown ggml type '${t.type}'`);
  return type;
}

function writeValue(w: ByteWriter, type: GGUFValueType, value: GGUFScalar | GGUFArray, key: string): void {
  const wrong = () => new Error(`metadata '${key}': value ${String(value)} does not fit type ${GGUFValueType[type]}`);
  if (type === GGUFValueType.ARRAY) {
    if (typeof value !== 'object') throw wrong();
    const arr = value as GGUFArray;
    w.u32(arr.itemType);
    w.u64(BigInt(arr.items.length));
    if (arr.itemType === GGUFValueType.STRING || arr.itemType === GGUFValueType.ARRAY || arr.itemType === GGUFValueType.BOOL) {
      for (const item of arr.items as (GGUFScalar | GGUFArray)[]) writeValue(w, arr.itemType, item, key);
    } else {
      const items = arr.items as ArrayLike<number | bigint>;
      const size = minEncodedSize(arr.itemType);
      const scratch = new ByteWriter(items.length * size);
      for (let i = 0; i < items.length; i++) scratch.number(arr.itemType, items[i], key);
      w.raw(scratch.bytes());
    }
    return;
  }
  if (type === GGUFValueType.STRING) {
    if (typeof value !== 'string') throw wrong();
    w.string(value);
    return;
  }
  if (type === GGUFValueType.BOOL) {
    if (typeof value !== 'boolean') throw wrong();
    w.u8(value ? 1 : 0);
    return;
  }
  if (typeof value !== 'number' && typeof value !== 'bigint') throw wrong();
  w.number(type, value, key);
}

/** A growable little-endian byte buffer. */
class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(Math.max(capacity, 16));
    this.view = new DataView(this.buf.buffer);
  }

  /** Room for n more bytes; returns where they start. It may replace buf and view: read them after calling it. */
  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  u8(v: number) {
    const at = this.reserve(1);
    this.view.setUint8(at, v);
  }
  u32(v: number) {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  u64(v: bigint) {
    const at = this.reserve(8);
    this.view.setBigUint64(at, v, true);
  }
  raw(bytes: Uint8Array) {
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
  }
  zeros(n: number) {
    const at = this.reserve(n);
    this.buf.fill(0, at, this.length);
  }
  string(s: string) {
    const bytes = new TextEncoder().encode(s);
    this.u64(BigInt(bytes.length));
    this.raw(bytes);
  }

  number(type: GGUFValueType, v: number | bigint, key: string) {
    const bad = () => new Error(`metadata '${key}': ${String(v)} is not a valid ${GGUFValueType[type]}`);
    const big = typeof v === 'bigint';
    const num = () => {
      if (big) throw bad();
      return v as number;
    };
    const isNumber = isValueType(type) && type !== GGUFValueType.BOOL && type !== GGUFValueType.STRING && type !== GGUFValueType.ARRAY;
    if (!isNumber) throw bad();
    const at = this.reserve(minEncodedSize(type));
    const view = this.view;
    switch (type) {
      case GGUFValueType.UINT8: return view.setUint8(at, num());
      case GGUFValueType.INT8: return view.setInt8(at, num());
      case GGUFValueType.UINT16: return view.setUint16(at, num(), true);
      case GGUFValueType.INT16: return view.setInt16(at, num(), true);
      case GGUFValueType.UINT32: return view.setUint32(at, num(), true);
      case GGUFValueType.INT32: return view.setInt32(at, num(), true);
      case GGUFValueType.FLOAT32: return view.setFloat32(at, num(), true);
      case GGUFValueType.FLOAT64: return view.setFloat64(at, num(), true);
      case GGUFValueType.UINT64: return view.setBigUint64(at, BigInt(v), true);
      case GGUFValueType.INT64: return view.setBigInt64(at, BigInt(v), true);
      default: throw bad();
    }
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
