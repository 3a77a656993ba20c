// Arrow files written by llamascope, read back by polars (Rust's Arrow implementation, through
// nodejs-polars): same columns, same types, same values bit for bit.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pl from 'nodejs-polars';
import type { Table, Vector } from 'apache-arrow';
import { blockTable, openGGUF, tensorStats } from '../src';
import { arrowTable, statsTable, writeArrow } from '../src/notebook';
import { rng } from './helpers/tiny-gguf';

function readWithPolars(file: string): pl.DataFrame {
  return pl.readIPC(fs.readFileSync(file)); // nodejs-polars reads a Buffer (a path string failed here)
}

/** Equal bit for bit: NaN payloads, -0 and subnormals included. */
function sameBits(actual: ArrayBufferView, expected: ArrayBufferView, what: string): void {
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)), what);
}

describe('Arrow export read back by polars', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-arrow-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('numbers of every width, strings, booleans, fixed-width rows and lists', () => {
    const next = rng(3);
    const activations = Float32Array.from({ length: 5 * 7 }, () => next() * 8 - 4);
    const columns = {
      f32: Float32Array.from([NaN, -0, 1.401298464324817e-45, Infinity, -3.4028234663852886e38]),
      f64: Float64Array.from([Math.PI, -0, 5e-324, -Infinity, 1e300]),
      i8: Int8Array.from([-128, 127, 0, -1, 1]),
      i16: Int16Array.from([-32768, 32767, 0, -1, 1]),
      i32: Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, -1, 1]),
      u8: Uint8Array.from([0, 255, 1, 2, 3]),
      u16: Uint16Array.from([0, 65535, 1, 2, 3]),
      u32: Uint32Array.from([0, 2 ** 32 - 1, 1, 2, 3]),
      i64: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n]),
      token: ['<s>', ' the', 'β✓', '', '\n'],
      flag: [true, false, true, true, false],
      score: [0.5, 1, 2, 3, 4],
      hidden: { values: activations, width: 7 },
      ragged: [Float32Array.from([1]), Float32Array.from([2, 3]), Float32Array.from([]), Float32Array.from([4, 5, 6]), Float32Array.from([7])],
    };
    const file = path.join(dir, 'columns.arrow');
    writeArrow(file, columns);
    const df = readWithPolars(file);
    assert.deepEqual(df.columns, Object.keys(columns));
    assert.deepEqual(df.dtypes.map(String), [
      'DataType(Float32)',
      'DataType(Float64)',
      'DataType(Int8)',
      'DataType(Int16)',
      'DataType(Int32)',
      'DataType(UInt8)',
      'DataType(UInt16)',
      'DataType(UInt32)',
      'DataType(Int64)',
      'DataType(String)',
      'DataType(Bool)',
      'DataType(Float64)',
      'DataType(FixedSizeList(DataType(Float32),7))',
      'DataType(List(DataType(Float32)))',
    ]);
    for (const name of ['f32', 'f64', 'i8', 'i16', 'i32', 'u8', 'u16', 'u32', 'i64'] as const) {
      sameBits(df.getColumn(name).toTypedArray() as ArrayBufferView, columns[name], name);
    }
    assert.deepEqual(df.getColumn('token').toArray(), columns.token);
    assert.deepEqual(df.getColumn('flag').toArray(), columns.flag);
    assert.deepEqual(df.getColumn('score').toArray(), columns.score);
    const hidden = df.getColumn('hidden').toArray() as unknown as number[][];
    assert.equal(hidden.length, 5);
    sameBits(Float32Array.from(hidden.flat()), activations, 'hidden');
    assert.deepEqual(df.getColumn('ragged').toArray(), columns.ragged.map((r) => Array.from(r)));
  });

  it('a block table of a real Q4_K tensor: every field, fixed-size lists of codes included', function () {
    const gguf = openGGUF(path.resolve(__dirname, '../data/manllama-6m/manllama-6m-q4_k_m.gguf'));
    let table: Table;
    try {
      table = blockTable(gguf, 'blk.0.attn_k.weight');
    } finally {
      gguf.close();
    }
    assert.equal(gguf.tensor('blk.0.attn_k.weight').type.name, 'Q4_K');
    const file = path.join(dir, 'blocks.arrow');
    writeArrow(file, table);
    const df = readWithPolars(file);
    assert.equal(df.height, table.numRows);
    assert.deepEqual(df.columns, table.schema.fields.map((f) => f.name));
    for (const field of table.schema.fields) {
      const column = table.getChild(field.name) as Vector;
      const read = df.getColumn(field.name);
      if (field.type.children?.length) {
        // FixedSizeList: compare the flattened codes with the table's flat child values.
        assert.match(String(read.dtype), /FixedSizeList\(DataType\(Int32\),\d+\)/, field.name);
        const flat = Int32Array.from((read.toArray() as unknown as number[][]).flat());
        sameBits(flat, column.data[0].children[0].values as Int32Array, field.name);
      } else {
        sameBits(read.toTypedArray() as ArrayBufferView, column.toArray() as ArrayBufferView, field.name);
      }
    }
  });

  it('statistics of several tensors, with per-row RMS and histograms as lists', () => {
    const gguf = openGGUF(path.resolve(__dirname, '../data/manllama-6m/manllama-6m-q8_0.gguf'));
    const names = ['token_embd.weight', 'blk.0.attn_norm.weight', 'blk.5.ffn_down.weight'];
    const stats = Object.fromEntries(names.map((n) => [n, tensorStats(gguf.readRows(n), gguf.tensor(n).shape[0], 16)]));
    gguf.close();
    const file = path.join(dir, 'stats.arrow');
    writeArrow(file, statsTable(stats));
    const df = readWithPolars(file);
    assert.deepEqual(df.getColumn('tensor').toArray(), names);
    assert.deepEqual(df.getColumn('count').toArray().map(Number), names.map((n) => stats[n].count));
    for (const key of ['min', 'max', 'mean', 'rms', 'std'] as const) {
      sameBits(df.getColumn(key).toTypedArray() as Float64Array, Float64Array.from(names, (n) => stats[n][key]), key);
    }
    const rowRms = df.getColumn('row_rms').toArray() as unknown as number[][];
    const edges = df.getColumn('histogram_edges').toArray() as unknown as number[][];
    const counts = df.getColumn('histogram_counts').toArray() as unknown as number[][];
    names.forEach((n, i) => {
      sameBits(Float32Array.from(rowRms[i]), stats[n].rowRms, `${n} row_rms`);
      sameBits(Float64Array.from(edges[i]), stats[n].histogram.edges, `${n} edges`);
      assert.deepEqual(counts[i], Array.from(stats[n].histogram.counts), `${n} counts`);
    });
  });

  it('refuses columns that do not line up, saying which', () => {
    assert.throws(() => arrowTable({ token: Int32Array.from([1, 2]), logit: Float32Array.from([1]) }), /column 'logit' has 1 rows but 'token' has 2/);
    assert.throws(() => arrowTable({ hidden: { values: new Float32Array(10), width: 3 } }), /10 values do not split into rows of width 3/);
    assert.throws(() => arrowTable({ mixed: [1, 'a'] as unknown as number[] }), /column 'mixed' mixes kinds of values/);
    assert.throws(() => arrowTable({}), /at least one column/);
  });
});
