// A quantized tensor as a table with one row per block: where the block sits (tensor row, first
// column) and every field of its struct (scales, mins, quant codes), as an Apache Arrow table.
// This is the view that settles "are these scales plausible?" (seed 000) in one cell.

import { Field, FixedSizeList, Float32, Int32, Table, makeData, makeVector, type Vector } from 'apache-arrow';
import type { GGUFFile, GGUFTensorInfo } from '../gguf';
import type { BlockFieldSpec } from '../quant/codec';

export interface BlockTableOptions {
  /** Tensor rows [start, end) to include (default: all). */
  rows?: [number, number];
}

export function blockTable(file: GGUFFile, tensor: string | GGUFTensorInfo, options: BlockTableOptions = {}): Table {
  const t = typeof tensor === 'string' ? file.tensor(tensor) : tensor;
  const codec = t.type.codec;
  if (!codec) throw new Error(`'${t.name}' is ${t.type.name}, whose block layout llamascope does not decode yet`);
  const [start, end] = options.rows ?? [0, file.rowCount(t)];
  const bytes = file.readRowBytes(t, start, end);
  const blocksPerRow = t.shape[0] / t.type.blockSize;
  const n = bytes.length / t.type.typeSize;

  const columns: Record<string, Vector> = {
    block: int32Column(n, (i) => start * blocksPerRow + i),
    row: int32Column(n, (i) => start + Math.floor(i / blocksPerRow)),
    column: int32Column(n, (i) => (i % blocksPerRow) * t.type.blockSize),
  };
  const store = codec.fields.map((f) => ({ spec: f, data: f.kind === 'float' ? new Float32Array(n * f.length) : new Int32Array(n * f.length) }));
  for (let i = 0; i < n; i++) {
    const values = codec.blockFields(bytes, i * t.type.typeSize);
    for (const { spec, data } of store) {
      const v = values[spec.name];
      if (typeof v === 'number') data[i] = v;
      else data.set(v, i * spec.length);
    }
  }
  for (const { spec, data } of store) columns[spec.name] = fieldColumn(spec, data, n);
  return new Table(columns);
}

function int32Column(n: number, at: (i: number) => number): Vector {
  return makeVector(Int32Array.from({ length: n }, (_, i) => at(i)));
}

function fieldColumn(spec: BlockFieldSpec, data: Float32Array | Int32Array, n: number): Vector {
  if (spec.length === 1) return makeVector(data);
  const item = data instanceof Float32Array ? new Float32() : new Int32();
  // Built from the flat typed array directly: no per-block JavaScript arrays.
  const child = makeData({ type: item, length: data.length, nullCount: 0, data } as never);
  const type = new FixedSizeList(spec.length, new Field('item', item));
  return makeVector(makeData({ type, length: n, nullCount: 0, child } as never));
}
