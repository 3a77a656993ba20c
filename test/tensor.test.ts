import { strict as assert } from 'node:assert';
import { Tensor, realize, TensorError, type Kernel, type DeviceBuffer } from '../src/tensor';
import { CpuBackend } from '../src/backend/cpu';
import { openGGUF } from '../src/gguf';
import { modelPath } from './helpers/references';

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

