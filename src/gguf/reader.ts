// GGUF v2/v3 reader (spec: ggml/docs/gguf.md). Opening reads the header, the metadata and the
// tensor directory only; tensor bytes are read later, by range, on demand.
//
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x      { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//   padding to general.alignment (default 32)
//   data section: each tensor at data_start + offset
//
// Strings are u64 length + UTF-8 bytes (no terminator); arrays are u32 item type + u64 count + items.

import { GGUFError } from './errors';
import { Cursor } from './cursor';
import { FileSource, MemorySource, type ByteSource } from './source';
import {
  GGUFValueType,
  isValueType,
  minEncodedSize,
  valueTypeName,
  type GGUFArray,
  type GGUFScalar,
  type GGUFValue,
  type NumericArray,
} from './values';
import { GGUFFile, type GGUFTensorInfo } from './file';
import { checkTensors } from './validate';
import { typeById, type GGMLTypeInfo } from '../quant/types';
import { KEY_ALIGNMENT } from './keys';
import { DEFAULT_ALIGNMENT, GGUF_MAGIC, alignUp } from './format';

const MAX_DIMS = 4;
const MAX_ARRAY_NESTING = 8;

export interface OpenOptions {
  /**
   * true (default): throw the first problem found in the tensor directory.
   * false: open anyway and list every problem in `file.problems` (for doctor-style inspection).
   * Problems in the header or metadata always throw: nothing after them can be located.
   */
  strict?: boolean;
}

/** Open a GGUF file (path) or GGUF bytes in memory, reading only its header and directory. */
export function openGGUF(input: string | Uint8Array, options: OpenOptions = {}): GGUFFile {
  const source: ByteSource = typeof input === 'string' ? new FileSource(input) : new MemorySource(input);
  try {
    const file = parse(source, typeof input === 'string' ? input : '<memory>');
    if ((options.strict ?? true) && file.problems.length > 0) throw file.problems[0];
    return file;
  } catch (e) {
    source.close();
    throw e;
  }
}

function parse(source: ByteSource, path: string): GGUFFile {
  const c = new Cursor(source);
  const magic = c.u32('the magic number');
  if (magic !== GGUF_MAGIC) {
    const seen = [magic & 0xff, (magic >> 8) & 0xff, (magic >> 16) & 0xff, magic >>> 24]
      .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
      .join('');
    throw new GGUFError('BAD_MAGIC', `${path} is not a GGUF file: it starts with "${seen}", not "GGUF"`, {
      offset: 0,
    });
  }
  const version = c.u32('the version');
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
    if (swapped === 2 || swapped === 3) {
      throw new GGUFError(
        'BIG_ENDIAN',
        `${path} is a big-endian GGUF (version ${swapped} stored byte-swapped); llamascope reads little-endian files only.` +
          ' Convert it with gguf-py (gguf_convert_endian.py) first.',
        { offset: 4, numbers: { version } },
      );
    }
    const hint = version === 1 ? ' GGUF v1 is obsolete: re-convert the model with a current llama.cpp.' : '';
    throw new GGUFError('UNSUPPORTED_VERSION', `${path} has GGUF version ${version}; supported are 2 and 3.${hint}`, {
      offset: 4,
      numbers: { version },
    });
  }
  // The smallest tensor entry: empty name (8) + n_dims (4) + type (4) + offset (8); smallest kv: 8 + 4 + 1.
  const nTensors = c.count('the tensor count', 24, 'COUNT_OUT_OF_RANGE');
  const nKV = c.count('the metadata key count', 13, 'COUNT_OUT_OF_RANGE');

  const metadata = new Map<string, GGUFValue>();
  for (let i = 0; i < nKV; i++) {
    const keyOffset = c.pos;
    const key = c.string(`the name of metadata key #${i}`);
    if (key === '') throw new GGUFError('EMPTY_KEY', `metadata key #${i} at offset ${keyOffset} has an empty name`, { offset: keyOffset });
    if (metadata.has(key)) {
      throw new GGUFError('DUPLICATE_KEY', `metadata key '${key}' appears twice (again at offset ${keyOffset})`, {
        key,
        offset: keyOffset,
      });
    }
    const typeOffset = c.pos;
    const type = c.u32(`the value type of '${key}'`);
    if (!isValueType(type)) throw badValueType(type, `'${key}'`, typeOffset, key);
    metadata.set(key, { type, value: readValue(c, type, key, 0) });
  }

  const alignment = readAlignment(metadata, path);

  const tensors: GGUFTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const infoOffset = c.pos;
    const name = c.string(`the name of tensor #${i}`);
    const nDimsOffset = c.pos;
    const nDims = c.u32(`the dimension count of '${name}'`);
    if (nDims > MAX_DIMS) {
      throw new GGUFError('TOO_MANY_DIMS', `tensor '${name}' has ${nDims} dimensions; GGUF allows at most ${MAX_DIMS}`, {
        tensor: name,
        offset: nDimsOffset,
        numbers: { nDims },
      });
    }
    const ne: bigint[] = [];
    for (let d = 0; d < nDims; d++) ne.push(c.i64(`dimension ${d} of '${name}'`));
    const typeId = c.u32(`the type of '${name}'`);
    const relativeOffset = c.u64(`the data offset of '${name}'`);
    tensors.push(makeTensorInfo(name, ne, typeId, relativeOffset, infoOffset));
  }

  const directoryEnd = c.pos;
  const dataOffset = alignUp(directoryEnd, alignment);
  for (const t of tensors) t.offset = dataOffset + t.relativeOffset;
  const problems = checkTensors(tensors, { alignment, fileSize: source.size });
  return new GGUFFile(source, path, version, metadata, tensors, alignment, directoryEnd, dataOffset, problems);
}

function readAlignment(metadata: Map<string, GGUFValue>, path: string): number {
  const entry = metadata.get(KEY_ALIGNMENT);
  if (entry === undefined) return DEFAULT_ALIGNMENT;
  const v = entry.value;
  if (entry.type !== GGUFValueType.UINT32 || typeof v !== 'number' || v === 0 || (v & (v - 1)) !== 0) {
    throw new GGUFError(
      'BAD_ALIGNMENT',
      `${path}: ${KEY_ALIGNMENT} must be a uint32 power of two, but it is ${valueTypeName(entry.type)} ${String(v)}`,
      { key: KEY_ALIGNMENT },
    );
  }
  return v;
}

/** Shape and sizes of a directory entry; the range checks happen in validate.ts. */
function makeTensorInfo(name: string, ne: bigint[], typeId: number, relativeOffset: bigint, infoOffset: number): GGUFTensorInfo {
  const known = typeById(typeId);
  const type: GGMLTypeInfo = known ?? { id: typeId, name: `UNKNOWN(${typeId})`, blockSize: 1, typeSize: 0 };
  let product = 1n;
  for (const d of ne) product *= d > 0n ? d : 0n;
  const safe = (x: bigint) => (x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(x) : NaN);
  const nElements = safe(product);
  const blocks = nElements / type.blockSize;
  return {
    name,
    type,
    typeId,
    ne,
    shape: ne.map(safe),
    nElements,
    relativeOffset: safe(relativeOffset),
    rawRelativeOffset: relativeOffset,
    offset: NaN, // set once the data section start is known
    nBytes: Number.isInteger(blocks) ? blocks * type.typeSize : NaN,
    infoOffset,
  };
}

function badValueType(type: number, what: string, offset: number, key?: string): GGUFError {
  return new GGUFError('BAD_VALUE_TYPE', `${what} has value type ${type} at offset ${offset}; GGUF defines types 0..12`, {
    key,
    offset,
    numbers: { type },
  });
}

function readValue(c: Cursor, type: GGUFValueType, key: string, depth: number): GGUFScalar | GGUFArray {
  const what = `the value of '${key}'`;
  switch (type) {
    case GGUFValueType.UINT8:
      return c.u8(what);
    case GGUFValueType.INT8:
      return (c.u8(what) << 24) >> 24;
    case GGUFValueType.BOOL:
      return c.u8(what) !== 0;
    case GGUFValueType.STRING:
      return c.string(what);
    case GGUFValueType.ARRAY:
      return readArray(c, key, depth + 1);
    default: {
      // Fixed-size numbers: decode through the same path as numeric arrays.
      const one = readNumeric(c, type, 1, what);
      return one[0] as number | bigint;
    }
  }
}

function readArray(c: Cursor, key: string, depth: number): GGUFArray {
  if (depth > MAX_ARRAY_NESTING) {
    throw new GGUFError('NESTING_TOO_DEEP', `'${key}' nests arrays more than ${MAX_ARRAY_NESTING} deep at offset ${c.pos}`, {
      key,
      offset: c.pos,
    });
  }
  const typeOffset = c.pos;
  const itemType = c.u32(`the item type of array '${key}'`);
  if (!isValueType(itemType)) throw badValueType(itemType, `an item of array '${key}'`, typeOffset, key);
  const n = c.count(`the item count of array '${key}'`, minEncodedSize(itemType), 'COUNT_OUT_OF_RANGE');
  const what = `the items of '${key}'`;
  switch (itemType) {
    case GGUFValueType.STRING: {
      return { itemType, items: c.strings(n, (i) => `item ${i} of '${key}'`) };
    }
    case GGUFValueType.BOOL:
      return { itemType, items: Array.from(c.bytes(n, what), (b) => b !== 0) };
    case GGUFValueType.ARRAY: {
      const items: GGUFArray[] = [];
      for (let i = 0; i < n; i++) items.push(readArray(c, key, depth + 1));
      return { itemType, items };
    }
    default:
      return { itemType, items: readNumeric(c, itemType, n, what) };
  }
}

const NUMERIC_ARRAYS: Partial<Record<GGUFValueType, { new (b: ArrayBuffer): NumericArray }>> = {
  [GGUFValueType.UINT8]: Uint8Array,
  [GGUFValueType.INT8]: Int8Array,
  [GGUFValueType.UINT16]: Uint16Array,
  [GGUFValueType.INT16]: Int16Array,
  [GGUFValueType.UINT32]: Uint32Array,
  [GGUFValueType.INT32]: Int32Array,
  [GGUFValueType.FLOAT32]: Float32Array,
  [GGUFValueType.FLOAT64]: Float64Array,
  [GGUFValueType.UINT64]: BigUint64Array,
  [GGUFValueType.INT64]: BigInt64Array,
};

/** n numbers of a fixed-size type, as a typed array (copied, so aligned; GGUF is little-endian like every host we run on). */
function readNumeric(c: Cursor, type: GGUFValueType, n: number, what: string): NumericArray {
  const Ctor = NUMERIC_ARRAYS[type]!;
  const bytes = c.bytes(n * minEncodedSize(type), what);
  return new Ctor(bytes.buffer as ArrayBuffer);
}
