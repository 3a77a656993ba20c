import { strict as assert } from 'node:assert';
import { tableToIPC, type Table } from 'apache-arrow';
import pl from 'nodejs-polars';
import { Tensor, realize, TensorError, type Kernel, type DeviceBuffer } from '../src/tensor';
import { CpuBackend } from '../src/backend/cpu';
import { openGGUF } from '../src/gguf';
import { quantize, dequantize } from '../src/quant';
import { toBundle } from '../src/notebook';
import { modelPath } from './helpers/references';
import { rng } from './helpers/tiny-gguf';

/** A CPU backend that records every kernel it runs. */
class CountingBackend extends CpuBackend {
  kernels: Kernel[] = [];
  override run(kernel: Kernel): DeviceBuffer {
    this.kernels.push(kernel);
    return super.run(kernel);
  }
}

describe('lazy tensors', () => {
  let backend: CountingBackend;
  beforeEach(() => {
    backend = new CountingBackend();
  });
  const T = (data: number[], shape: number[]) => Tensor.from(data, shape, { backend });

  it('compute nothing until a value is asked for', async () => {
    const y = T([1, 2, 3], [3]).add(1).mul(T([2, 2, 2], [3])).exp();
    assert.equal(backend.kernels.length, 0);
    assert.match(String(y), /lazy/);
    await y.data();
    assert.ok(backend.kernels.length > 0);
  });

  it('fuse a chain of elementwise ops and views into one kernel', async () => {
    const a = T([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = a.T.mul(2).add(T([1, 2], [2])).silu().sub(0.5).slice(0, 1, 3);
    // a.T = [[1, 4], [2, 5], [3, 6]]; rows 1 and 2 of silu(2 a.T + [1, 2]) - 0.5
    const silu = (z: number) => z / (1 + Math.exp(-z));
    const expected = [[2, 5], [3, 6]].flatMap(([p, q]) => [silu(2 * p + 1) - 0.5, silu(2 * q + 2) - 0.5]);
    const got = await y.data();
    expected.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-6, `element ${i}: ${got[i]} vs ${v}`));
    assert.equal(backend.kernels.length, 1);
    assert.equal(backend.kernels[0].kind, 'elementwise');
  });

  it('share work when realizing several outputs, and keep an elementwise value used twice', async () => {
    const x = T([0.5, 1, 1.5], [3]).exp(); // used by both outputs: computed once
    const a = x.add(1);
    const b = x.mul(x);
    await realize(a, b);
    assert.equal(backend.kernels.length, 3);
    assert.deepEqual(Array.from(await b.data()), [0.5, 1, 1.5].map((v) => Math.fround(Math.exp(v)) ** 2).map(Math.fround));
  });

  it('free intermediates as soon as their last consumer ran; targets keep their buffers', async () => {
    const x = T(Array.from({ length: 1000 }, (_, i) => i / 1000), [10, 100]);
    const before = backend.bytesInUse;
    const y = x.matmul(x.T).softmax().sum(-1); // matmul and softmax outputs are intermediates
    await realize(y);
    assert.equal(backend.bytesInUse - before, 10 * 4, 'only the [10] result stays');
    y.dispose();
    assert.equal(backend.bytesInUse, before);
  });

  it('report shape and dtype mistakes when the op is created, naming both shapes', () => {
    const a = T([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.throws(() => a.add(T([1, 2], [2])), (e: unknown) => e instanceof TensorError && /add: shapes \[2, 3\] and \[2\] do not broadcast/.test(e.message));
    assert.throws(() => a.matmul(a), /matmul: \[2, 3\] x \[2, 3\]: inner dimensions must agree/);
    assert.throws(() => a.reshape(4, 2), /cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    assert.throws(() => a.add(Tensor.from([1, 2, 3], [3], { dtype: 'i32', backend })), /dtypes f32 and i32 differ/);
    assert.throws(() => a.add(Tensor.from([1, 2, 3], [3], { backend: new CpuBackend() })), /different backends/);
  });

  it('report a failure at realize time with the op, its inputs and where it was created', async () => {
    const table = T([1, 2, 3, 4], [2, 2]);
    const bad = Tensor.getRows(table, Tensor.from([0, 5], [2], { dtype: 'i32', backend }));
    await assert.rejects(bad.data(), (e: unknown) => {
      assert.ok(e instanceof TensorError);
      assert.match(e.message, /realizing getRows\(\[2, 2\] f32, \[2\] i32\) -> \[2, 2\] f32 on cpu .*index 5 .* outside the table's 2 rows/);
      assert.match(e.message, /op created at .*tensor\.test\.ts/);
      return true;
    });
  });

  it('report an allocation past what one buffer may hold with the bytes asked for and the bytes held', async () => {
    // 2^52 values: past V8's typed-array limit on every Node version and past the WASM heap, so
    // the allocation fails at once without touching memory.
    const values = 2 ** 52;
    for (const cpu of [new CpuBackend(), new CpuBackend({ kernels: 'reference' })]) {
      const huge = Tensor.from([1], [1], { backend: cpu }).expand(values).mul(2);
      const heldBytes = 2 * 4; // the [1] input and the uploaded scalar 2
      await assert.rejects(huge.data(), (e: unknown) => {
        assert.ok(e instanceof TensorError);
        const device = cpu.description.replace(/[()]/g, '\\$&');
        assert.match(e.message, new RegExp(`^realizing mul\\(\\[4503599627370496\\] f32, \\[\\] f32\\) -> \\[4503599627370496\\] f32 on ${device} failed: could not allocate`));
        const asked = /could not allocate [\d.]+ \w+ \((\d+) bytes\) for (\d+) f32 values/.exec(e.message);
        assert.ok(asked, e.message);
        assert.equal(Number(asked[1]), values * 4);
        assert.equal(Number(asked[2]), values);
        const held = /; (\d+) bytes held\./.exec(e.message);
        assert.ok(held, e.message);
        assert.equal(Number(held[1]), heldBytes);
        assert.equal(cpu.bytesInUse, heldBytes);
        assert.match(e.message, /Freeing memory cannot help: compute on smaller parts \(t\.slice\(axis, start, end\)\)/);
        return true;
      }, cpu.description);
    }
  });
});

describe('Tensor.toArrow read back by polars', () => {
  const backend = new CpuBackend();
  const next = rng(17);
  const randoms = (n: number) => Float32Array.from({ length: n }, () => next() * 200 - 100);

  /** The table as polars (Rust's Arrow implementation) reads its IPC file. */
  function readBack(table: Table): pl.DataFrame {
    return pl.readIPC(Buffer.from(tableToIPC(table, 'file')));
  }

  /** Equal bit for bit (-0 and infinities included). */
  function sameBits(actual: Float32Array | Int32Array, expected: Float32Array | Int32Array, what: string): void {
    assert.equal(actual.constructor, expected.constructor, what);
    assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)), what);
  }

  /** Check `t.toArrow()` against `t.data()`, addressing the values by the index columns polars reads. */
  async function checkTable(t: Tensor, what: string): Promise<void> {
    const expected = await t.data();
    const table = await t.toArrow();
    assert.deepEqual(JSON.parse(table.schema.metadata.get('shape')!), t.shape, what);
    assert.equal(table.schema.metadata.get('dtype'), t.dtype, what);
    const df = readBack(table);
    const arrowType = t.dtype === 'i32' ? 'Int32' : 'Float32';
    const Typed = t.dtype === 'i32' ? Int32Array : Float32Array;
    if (t.rank <= 1) {
      assert.deepEqual(df.columns, ['value'], what);
      assert.deepEqual(df.dtypes.map(String), [`DataType(${arrowType})`], what);
      sameBits(df.getColumn('value').toTypedArray() as Float32Array | Int32Array, expected, what);
      return;
    }
    const leading = t.shape.slice(0, -1);
    const width = t.shape[t.rank - 1];
    const dims = leading.map((_, axis) => `dim${axis}`);
    assert.deepEqual(df.columns, [...dims, 'values'], what);
    assert.deepEqual(df.dtypes.map(String), [...dims.map(() => 'DataType(Int32)'), `DataType(FixedSizeList(DataType(${arrowType}),${width}))`], what);
    assert.equal(df.height, leading.reduce((a, b) => a * b, 1), what);
    const index = dims.map((d) => Array.from(df.getColumn(d).toTypedArray() as Int32Array));
    const rows = df.getColumn('values').toArray() as unknown as number[][];
    const seen = new Set<number>();
    rows.forEach((row, r) => {
      // Row-major offset of element [dim0, dim1, …, 0] of the tensor, from the index columns alone.
      const start = index.reduce((offset, column, axis) => offset * leading[axis] + column[r], 0) * width;
      assert.ok(!seen.has(start), `${what}: row ${r} repeats an index`);
      seen.add(start);
      sameBits(Typed.from(row), expected.subarray(start, start + width) as Float32Array | Int32Array, `${what}: row ${r}`);
    });
  }

  it('rank 0 and 1: one column `value`, f32 and i32', async () => {
    await checkTable(Tensor.from([-0.5], [], { backend }), 'f32 scalar');
    await checkTable(Tensor.from([0, -0, Infinity, -Infinity, 1e-45, ...randoms(7)], [12], { backend }), 'f32 [12]');
    await checkTable(Tensor.from(Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, -1, 7]), [5], { backend }), 'i32 [5]');
  });

  it('rank 2 and 3: index columns dim0, … and the last axis as a FixedSizeList `values`', async () => {
    await checkTable(Tensor.from(randoms(4 * 6), [4, 6], { backend }), 'f32 [4, 6]');
    await checkTable(Tensor.from(randoms(3 * 5 * 7), [3, 5, 7], { backend }), 'f32 [3, 5, 7]');
    await checkTable(Tensor.from(Int32Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 1000 - 7000), [2, 3, 4], { backend }), 'i32 [2, 3, 4]');
    await checkTable(Tensor.from(randoms(6), [6], { backend }).argmax(-1, true).expand(2, 1).contiguous(), 'i32 [2, 1]');
  });

  it('views: the values as the view sees them (transposed, sliced, permuted, expanded)', async () => {
    const a = Tensor.from(randoms(5 * 8), [5, 8], { backend });
    await checkTable(a.T, 'transposed [8, 5]');
    await checkTable(a.slice(1, 2, 7), 'sliced [5, 5]');
    const b = Tensor.from(randoms(3 * 4 * 6), [3, 4, 6], { backend });
    await checkTable(b.permute(2, 0, 1).slice(0, 1, 4), 'permuted and sliced [3, 3, 4]');
    await checkTable(Tensor.from(randoms(4), [4], { backend }).expand(3, 4), 'expanded [3, 4]');
    await checkTable(a.T.slice(0, 3, 4).reshape(5), 'a column [5]');
  });

  it('a quantized tensor is dequantized to f32', async () => {
    const values = randoms(3 * 64);
    const bytes = quantize('Q8_0', values);
    const t = Tensor.fromBlocks(bytes, 'Q8_0', [3, 64], { backend });
    const table = await t.toArrow();
    assert.equal(table.schema.metadata.get('dtype'), 'Q8_0');
    const rows = readBack(table).getColumn('values').toArray() as unknown as number[][];
    sameBits(Float32Array.from(rows.flat()), dequantize('Q8_0', bytes), 'Q8_0 [3, 64]');
  });

  it('shows as a table in a notebook', async () => {
    const text = String(toBundle(await Tensor.from([1, 2, 3, 4, 5, 6], [2, 3], { backend }).toArrow())['text/plain']);
    assert.match(text, /Arrow table, 2 rows × 2 columns/);
    assert.match(text, /dim0 +values\n.*Int32 +FixedSizeList\[3\]<Float32>\n0 +0 +\[1, 2, 3\]\n1 +1 +\[4, 5, 6\]/);
  });
});

describe('quantized weights on the device', () => {
  it('occupy exactly their GGUF byte size (no f32 copy), and decode inside getRows/linear', async () => {
    const backend = new CpuBackend();
    const f = openGGUF(modelPath('q4_k_m'));
    const info = f.tensor('blk.0.ffn_down.weight');
    const before = backend.bytesInUse;
    const w = Tensor.fromGGUF(f, 'blk.0.ffn_down.weight', { backend });
    assert.equal(backend.bytesInUse - before, info.nBytes);
    assert.equal(w.dtype, info.type.name);
    assert.deepEqual(w.shape, [256, 768]);
    const row5 = await Tensor.getRows(w, Tensor.from([5], [1], { dtype: 'i32', backend })).data();
    assert.deepEqual(row5, f.readRows(info, 5, 6));
    assert.throws(() => w.add(1), /add needs f32 or i32 inputs; this tensor is Q4_K/);
    f.close();
  });
});

