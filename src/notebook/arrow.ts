// Arrow IPC export: captured activations, block tables, statistics as standard Arrow files that
// pandas, polars, DuckDB or R read as they are (test/notebook-arrow.test.ts reads them back with
// polars, an independent Rust implementation).
//
// Columns are built from typed arrays without copying; a fixed-width column (one activation
// vector per token) is Arrow's FixedSizeList over the flat array, as blockTable's quant codes are.

import * as fs from 'node:fs';
import { Bool, Field, FixedSizeList, List, Table, Utf8, makeData, makeVector, tableToIPC, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import type { TensorStats } from '../inspect/stats';

export type TypedNumbers =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Rows of `width` consecutive values each (e.g. [tokens x hidden] activations): a FixedSizeList column. */
export interface FixedWidthRows {
  values: TypedNumbers;
  width: number;
}

/**
 * A column's values:
 * - a typed array (its own Arrow type: Float32Array → Float32, BigInt64Array → Int64, …);
 * - number[] → Float64, string[] → Utf8, boolean[] → Bool (an empty array → Float64);
 * - { values, width } → FixedSizeList of `width`;
 * - an array of typed arrays of one kind → List (rows of different lengths).
 */
export type ColumnValues = TypedNumbers | readonly number[] | readonly string[] | readonly boolean[] | FixedWidthRows | readonly TypedNumbers[];

/** An Arrow table from named columns, each with one value per row. */
export function arrowTable(columns: Record<string, ColumnValues>): Table {
  const entries = Object.entries(columns);
  if (entries.length === 0) throw new Error('arrowTable needs at least one column, e.g. { token: Int32Array.from(ids) }');
  const vectors = entries.map(([name, values]) => [name, columnVector(name, values)] as const);
  const [firstName, first] = vectors[0];
  for (const [name, vector] of vectors) {
    if (vector.length !== first.length) {
      throw new Error(`column '${name}' has ${vector.length} rows but '${firstName}' has ${first.length}: every column needs one value per row`);
    }
  }
  return new Table(Object.fromEntries(vectors));
}

/** Write `table` (or columns for `arrowTable`) as an Arrow IPC file (the .arrow / Feather v2 format). */
export function writeArrow(path: string, table: Table | Record<string, ColumnValues>): void {
  fs.writeFileSync(path, tableToIPC(table instanceof Table ? table : arrowTable(table), 'file'));
}

/** One row per tensor: count, min, max, mean, RMS, std, non-finite, per-row RMS and the histogram as lists. */
export function statsTable(stats: Record<string, TensorStats>): Table {
  const rows = Object.entries(stats);
  const numbers = (pick: (s: TensorStats) => number) => Float64Array.from(rows, ([, s]) => pick(s));
  const integers = (pick: (s: TensorStats) => number) => BigInt64Array.from(rows, ([, s]) => BigInt(pick(s)));
  return arrowTable({
    tensor: rows.map(([name]) => name),
    count: integers((s) => s.count),
    non_finite: integers((s) => s.nonFinite),
    min: numbers((s) => s.min),
    max: numbers((s) => s.max),
    mean: numbers((s) => s.mean),
    rms: numbers((s) => s.rms),
    std: numbers((s) => s.std),
    row_rms: rows.map(([, s]) => s.rowRms),
    histogram_edges: rows.map(([, s]) => s.histogram.edges),
    histogram_counts: rows.map(([, s]) => s.histogram.counts),
  });
}

function columnVector(name: string, values: ColumnValues): Vector {
  if (ArrayBuffer.isView(values)) return makeVector(values as TypedNumbers);
  if (!Array.isArray(values)) return fixedWidthVector(name, values as FixedWidthRows);
  const items = values as readonly unknown[];
  if (items.length === 0 || items.every((v) => typeof v === 'number')) return makeVector(Float64Array.from(items as number[]));
  if (items.every((v) => typeof v === 'string')) return vectorFromArray(items as string[], new Utf8());
  if (items.every((v) => typeof v === 'boolean')) return vectorFromArray(items as boolean[], new Bool());
  const kind = (items[0] as object).constructor;
  if (ArrayBuffer.isView(items[0]) && items.every((v) => (v as object).constructor === kind)) return listVector(items as TypedNumbers[]);
  throw new Error(`column '${name}' mixes kinds of values; use one of: a typed array, number[], string[], boolean[], { values, width }, or typed arrays of one kind`);
}

function fixedWidthVector(name: string, { values, width }: FixedWidthRows): Vector {
  if (!(Number.isInteger(width) && width > 0 && values.length % width === 0)) {
    throw new Error(`column '${name}': ${values.length} values do not split into rows of width ${width}`);
  }
  const child = makeVector(values).data[0] as Data;
  const type = new FixedSizeList(width, new Field('item', child.type));
  return makeVector(makeData({ type, length: values.length / width, nullCount: 0, child } as never));
}

function listVector(rows: TypedNumbers[]): Vector {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((row, i) => (offsets[i + 1] = offsets[i] + row.length));
  const flat = new (rows[0].constructor as new (n: number) => TypedNumbers)(offsets[rows.length]);
  rows.forEach((row, i) => (flat as Float64Array).set(row as Float64Array, offsets[i]));
  const child = makeVector(flat).data[0] as Data;
  const type = new List(new Field('item', child.type));
  return makeVector(makeData({ type, length: rows.length, nullCount: 0, valueOffsets: offsets, child } as never));
}
