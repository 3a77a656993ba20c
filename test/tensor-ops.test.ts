import { strict as assert } from 'node:assert';
import { Plan, Tensor, type Backend } from '../src/tensor';
import { quantize, dequantize, codecTypes } from '../src/quant';
import { rng } from './helpers/tiny-gguf';
import { TEST_BACKENDS } from './helpers/backends';
import * as R from './helpers/reference-ops';

const F32_TOLERANCE = 2e-6; // relative error of the whole output, f32 arithmetic vs float64

function randn(n: number, next: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = Math.max(next(), 1e-12), v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
}

for (const tb of TEST_BACKENDS) {
  describe(`tensor ops on ${tb.name} vs float64 references`, function () {
    let backend: Backend;
    const next = rng(20261123);
    before(async function () {
      backend = await tb.open();
    });
    const T = (data: ArrayLike<number>, shape: number[], dtype: 'f32' | 'i32' = 'f32') => Tensor.from(data, shape, { dtype, backend });
    const check = async (t: Tensor, expected: ArrayLike<number>, shape: readonly number[], tol = F32_TOLERANCE, what = '') => {
      assert.deepEqual(t.shape, shape, `${what} shape`);
      const got = await t.data();
      const err = R.relativeError(got, expected);
      assert.ok(err <= tol, `${what}: relative error ${err} > ${tol}`);
    };

    const unary: [string, (t: Tensor) => Tensor, (x: number) => number, (x: number) => number][] = [
      ['neg', (t) => t.neg(), (x) => -x, (x) => x],
      ['exp', (t) => t.exp(), Math.exp, (x) => x],
      ['log', (t) => t.log(), Math.log, (x) => Math.abs(x) + 0.1],
      ['sqrt', (t) => t.sqrt(), Math.sqrt, (x) => Math.abs(x)],
      ['rsqrt', (t) => t.rsqrt(), (x) => 1 / Math.sqrt(x), (x) => Math.abs(x) + 0.1],
      ['recip', (t) => t.recip(), (x) => 1 / x, (x) => Math.abs(x) + 0.5],
      ['abs', (t) => t.abs(), Math.abs, (x) => x],
      ['silu', (t) => t.silu(), (x) => x / (1 + Math.exp(-x)), (x) => x],
      ['gelu', (t) => t.gelu(), (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), (x) => x],
      ['tanh', (t) => t.tanh(), Math.tanh, (x) => x],
    ];
    for (const [name, op, f, domain] of unary) {
      it(`${name} on odd shapes`, async () => {
        for (const shape of [[1], [7], [3, 5], [2, 3, 33]]) {
          const x = Float32Array.from(randn(R.numel(shape), next), domain);
          await check(op(T(x, shape)), Array.from(x, f), shape, 1e-5, `${name} ${shape}`);
        }
      });
    }

    const binaries: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
      ['add', (a, b) => a.add(b), (x, y) => x + y],
      ['sub', (a, b) => a.sub(b), (x, y) => x - y],
      ['mul', (a, b) => a.mul(b), (x, y) => x * y],
      ['div', (a, b) => a.div(b), (x, y) => x / y],
      ['maximum', (a, b) => a.maximum(b), Math.max],
      ['minimum', (a, b) => a.minimum(b), Math.min],
      ['lt', (a, b) => a.lt(b), (x, y) => (x < y ? 1 : 0)],
      ['ge', (a, b) => a.ge(b), (x, y) => (x >= y ? 1 : 0)],
    ];
    for (const [name, op, f] of binaries) {
      it(`${name} with broadcasting`, async () => {
        for (const [as, bs] of [[[4, 5], [4, 5]], [[4, 5], [5]], [[3, 1, 6], [1, 2, 6]], [[2, 3], [1]]] as number[][][]) {
          const a = randn(R.numel(as), next), b = Float32Array.from(randn(R.numel(bs), next), (v) => (name === 'div' ? Math.abs(v) + 0.5 : v));
          const ref = R.binary(a, as, b, bs, f);
          await check(op(T(a, as), T(b, bs)), ref.data, ref.shape, 1e-6, `${name} ${as} ${bs}`);
        }
      });
    }

    it('pow, where and scalar operands', async () => {
      const x = Float32Array.from(randn(12, next), (v) => Math.abs(v) + 0.1);
      await check(T(x, [3, 4]).pow(1.5), Array.from(x, (v) => v ** 1.5), [3, 4], 1e-5, 'pow');
      const c = randn(12, next);
      await check(T(c, [3, 4]).gt(0).where(T(x, [3, 4]), -1), Array.from(c, (v, i) => (v > 0 ? x[i] : -1)), [3, 4], 0, 'where');
      await check(T(x, [3, 4]).mul(3).add(1), Array.from(x, (v) => v * 3 + 1), [3, 4], 1e-6, 'scalars');
    });

    it('fused chains on non-contiguous views (transpose, slice, expand) equal step-by-step math', async () => {
      const a = randn(6 * 8, next), b = randn(8, next);
      const at = R.transpose2(a, 6, 8); // [8, 6]
      const t = T(a, [6, 8]).T.mul(2).add(T(b, [8, 1])).exp().slice(1, 2, 5);
      const expected: number[] = [];
      for (let r = 0; r < 8; r++) for (let c = 2; c < 5; c++) expected.push(Math.exp(at[r * 6 + c] * 2 + b[r]));
      await check(t, expected, [8, 3], 1e-6, 'view chain');
      const u = T(a, [6, 8]).T.reshape(4, 12).add(1); // reshape of a transposed view needs a copy
      await check(u, Array.from(at, (v) => v + 1), [4, 12], 1e-6, 'reshape of transpose');
    });

    it('reductions: sum, max, min, argmax, mean, variance over every axis', async () => {
      const shape = [3, 5, 7];
      const x = randn(R.numel(shape), next);
      for (let axis = 0; axis < 3; axis++) {
        const outShape = shape.filter((_, i) => i !== axis);
        await check(T(x, shape).sum(axis), R.reduceRef(x, shape, axis, 'sum'), outShape, 1e-6, `sum ${axis}`);
        await check(T(x, shape).max(axis), R.reduceRef(x, shape, axis, 'max'), outShape, 0, `max ${axis}`);
        await check(T(x, shape).min(axis), R.reduceRef(x, shape, axis, 'min'), outShape, 0, `min ${axis}`);
        await check(T(x, shape).argmax(axis), R.reduceRef(x, shape, axis, 'argmax'), outShape, 0, `argmax ${axis}`);
        const mean = Array.from(R.reduceRef(x, shape, axis, 'sum'), (v) => v / shape[axis]);
        await check(T(x, shape).mean(axis), mean, outShape, 1e-6, `mean ${axis}`);
      }
      const v = Array.from({ length: 15 }, (_, r) => {
        const row = Array.from(x.subarray(r * 7, r * 7 + 7));
        const m = row.reduce((a, b) => a + b, 0) / 7;
        return row.reduce((a, b) => a + (b - m) ** 2, 0) / 7;
      });
      await check(T(x, shape).variance(-1), v, [3, 5], 1e-5, 'variance');
      await check(T(x, shape).sum(1, true), R.reduceRef(x, shape, 1, 'sum'), [3, 1, 7], 1e-6, 'keepDim');
    });

    it('matmul: odd sizes, batched with broadcast, transposed operands', async () => {
      for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [17, 33, 9], [64, 48, 1]]) {
        const a = randn(m * k, next), b = randn(k * n, next);
        await check(T(a, [m, k]).matmul(T(b, [k, n])), R.matmulRef(a, b, m, k, n), [m, n], 1e-5, `matmul ${m}x${k}x${n}`);
        await check(T(a, [m, k]).matmul(T(R.transpose2(b, k, n), [n, k]).T), R.matmulRef(a, b, m, k, n), [m, n], 1e-5, 'b transposed');
      }
      const a = randn(2 * 3 * 4, next), b = randn(4 * 5, next);
      const expected = [...R.matmulRef(a.subarray(0, 12), b, 3, 4, 5), ...R.matmulRef(a.subarray(12), b, 3, 4, 5)];
      await check(T(a, [2, 3, 4]).matmul(T(b, [1, 4, 5])), expected, [2, 3, 5], 1e-5, 'batched broadcast');
    });

    it('rmsNorm, softmax (plain, scaled, causal with offset)', async () => {
      const x = randn(5 * 33, next);
      await check(T(x, [5, 33]).rmsNorm(1e-5), R.rmsNormRef(x, 33, 1e-5), [5, 33], 1e-5, 'rmsNorm');
      await check(T(x, [5, 33]).softmax(), R.softmaxRef(x, 5, 33, 1, null, 5), [5, 33], 1e-5, 'softmax');
      const s = randn(2 * 4 * 6, next);
      await check(T(s, [2, 4, 6]).softmax({ scale: 0.3, causalOffset: 2 }), R.softmaxRef(s, 8, 6, 0.3, 2, 4), [2, 4, 6], 1e-5, 'causal softmax');
    });

    it('rope: NORM and NEOX, partial dims, freq base 500000, linear scaling, explicit positions', async () => {
      const [tokens, heads, dim] = [5, 3, 16];
      const x = randn(tokens * heads * dim, next);
      const pos = [0, 1, 7, 100, 3];
      for (const [mode, dims, base, scale] of [['norm', 16, 10000, 1], ['neox', 16, 10000, 1], ['norm', 8, 500000, 1], ['neox', 12, 10000, 0.25]] as const) {
        const t = T(x, [tokens, heads, dim]).rope(T(pos, [tokens], 'i32'), { mode, dims, freqBase: base, freqScale: scale });
        await check(t, R.ropeRef(x, tokens, heads, dim, pos, mode, dims, base, scale), [tokens, heads, dim], 1e-5, `rope ${mode} ${dims} ${base} ${scale}`);
      }
    });

    it('getRows and linear for every block type equal dequantize-then-float64 math', async () => {
      const [out, width, rows] = [5, 256, 3];
      const w = randn(out * width, next).map((v) => v * 0.05);
      const x = randn(rows * width, next);
      for (const type of codecTypes()) {
        const bytes = quantize(type, w);
        const wd = dequantize(type, bytes);
        const W = Tensor.fromBlocks(bytes, type.name, [out, width], { backend });
        const expected = R.matmulRef(x, R.transpose2(wd, out, width), rows, width, out);
        await check(T(x, [rows, width]).linear(W), expected, [rows, out], 1e-5, `linear ${type.name}`);
        await check(T(x, [rows, width]).matmul(W.T), expected, [rows, out], 1e-5, `matmul W.T ${type.name}`);
        const ids = [4, 0, 4, 2];
        const rowsRef = ids.flatMap((i) => Array.from(wd.subarray(i * width, (i + 1) * width)));
        await check(Tensor.getRows(W, T(ids, [4], 'i32')), rowsRef, [4, width], 0, `getRows ${type.name}`);
      }
    });

    it('concat and casts', async () => {
      const a = randn(6, next), b = randn(4, next);
      await check(Tensor.concat([T(a, [3, 2]), T(b, [2, 2])], 0), [...a, ...b], [5, 2], 0, 'concat 0');
      const c = randn(6, next);
      const expected = [0, 1, 2].flatMap((r) => [a[2 * r], a[2 * r + 1], c[2 * r], c[2 * r + 1]]);
      await check(Tensor.concat([T(a, [3, 2]), T(c, [3, 2])], 1), expected, [3, 4], 0, 'concat 1');
      await check(T([1.7, -2.2, 3], [3]).cast('i32'), [1, -2, 3], [3], 0, 'cast i32');
    });

    it('write: in place into a whole tensor, chained, from views; the target keeps its buffer', async () => {
      const storage = T(new Float32Array(12), [4, 3]);
      const a = randn(6, next), b = randn(6, next);
      const first = storage.write(T(a, [2, 3]), 0);
      // A transposed source is written in its row-major (viewed) order.
      const second = first.write(T(b, [3, 2]).transpose(0, 1), 6);
      const expected = [...a, ...[0, 1].flatMap((i) => [0, 1, 2].map((j) => b[j * 2 + i]))];
      const held = backend.bytesInUse;
      await check(second.slice(0, 1, 4), expected.slice(3), [3, 3], 0, 'rows 1..3 after both writes');
      assert.equal(second.node.buffer, storage.node.buffer, 'the result is the target buffer');
      await check(storage, expected, [4, 3], 0, 'the target itself changed');
      assert.ok(backend.bytesInUse <= held + 2 * 6 * 4, 'nothing but the sources was allocated');
      second.dispose();
      await check(storage, expected, [4, 3], 0, 'disposing a write leaves the target');
      assert.throws(() => storage.slice(0, 0, 2).write(T(a, [6]), 0), /whole tensor, not a view/);
      assert.throws(() => storage.write(T(a, [6]), 7), /6 values of \[6\] at offset 7 do not fit in \[4, 3\] \(12 values\)/);
      assert.throws(() => storage.write(T([1, 2], [2], 'i32'), 0), /cannot write i32 values into a f32 tensor/);
    });

    it('writeRows: rows go to the rows the indices name, in place; rows from a view; i32 too', async () => {
      const storage = T(new Float32Array(15), [5, 3]);
      const a = randn(6, next);
      // rows given transposed: row i of the source is column i of a [3, 2] tensor
      const written = storage.writeRows(T(a, [3, 2]).transpose(0, 1), T([4, 1], [2], 'i32'));
      const expected = new Float32Array(15);
      [4, 1].forEach((row, i) => [0, 1, 2].forEach((j) => (expected[row * 3 + j] = a[j * 2 + i])));
      await check(written, expected, [5, 3], 0, 'rows 4 and 1 written');
      assert.equal(written.node.buffer, storage.node.buffer, 'the result is the target buffer');
      const ints = T(new Int32Array(4), [2, 2], 'i32').writeRows(T([7, 8], [1, 2], 'i32'), T([1], [1], 'i32'));
      assert.deepEqual([...(await ints.data())], [0, 0, 7, 8]);
      assert.throws(() => storage.writeRows(T(a, [2, 3]), T([0], [1], 'i32')), /the indices must be 2 i32 values/);
      assert.throws(() => storage.writeRows(T(a, [3, 2]), T([0, 1, 2], [3], 'i32')), /rows of \[3, 2\] do not match the rows of \[5, 3\]/);
      assert.throws(() => storage.slice(0, 0, 2).writeRows(T(a, [2, 3]), T([0, 1], [2], 'i32')), /whole tensor, not a view/);
    });

    it('Plan: a recorded realization replays on new source contents, with the values a fresh realization gives', async () => {
      // x [3, 4] -> rmsNorm -> matmul by w -> softmax; plus rows of it written into a buffer at given indices
      const x = T(randn(12, next), [3, 4]);
      const w = T(randn(8, next), [4, 2]);
      const where = T([2, 0, 1], [3], 'i32');
      const out = x.rmsNorm(1e-6).mul(2).matmul(w).softmax();
      const store = T(new Float32Array(8), [4, 2]).writeRows(out, where);
      const plan = await Plan.record([out, store]);
      assert.ok(plan.size >= 3, `${plan.size} steps recorded`);
      for (let round = 0; round < 3; round++) {
        const xs = randn(12, next);
        const rows = [(round + 1) % 4, (round + 2) % 4, (round + 3) % 4];
        x.overwrite(xs);
        where.overwrite(rows);
        plan.replay();
        const fresh = T(xs, [3, 4]).rmsNorm(1e-6).mul(2).matmul(w).softmax();
        const expected = await fresh.data();
        await check(out, expected, [3, 2], 0, `round ${round}: the replayed output`);
        const stored = await store.data();
        rows.forEach((row, i) => assert.deepEqual([...stored.subarray(2 * row, 2 * row + 2)], [...expected.subarray(2 * i, 2 * i + 2)], `round ${round}: row ${i} stored at ${row}`));
      }
      assert.throws(() => x.overwrite([1, 2]), /2 values for a tensor of \[3, 4\]/);
      assert.throws(() => out.overwrite(new Float32Array(6)), /only a whole f32\/i32 tensor made from values/);
      const held = backend.bytesInUse;
      plan.dispose();
      assert.ok(backend.bytesInUse < held, 'disposing frees the intermediates');
      assert.throws(() => plan.replay(), /disposed; record a new one/);
      if (backend.name === 'cpu') {
        // a recording that fails part way (an index past the table: the CPU's getRows throws) frees what it made
        const failing = Tensor.getRows(x.mul(2), T([7], [1], 'i32')).add(1);
        const before = backend.bytesInUse;
        await assert.rejects(Plan.record([failing]), /outside the table's 3 rows/);
        assert.equal(backend.bytesInUse, before, 'nothing left allocated');
      }
    });
  });
}
