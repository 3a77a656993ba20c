// WebGPU-specific behaviour on Mesa's two software adapters: feature detection and the fallbacks,
// quantized linear on real GGUF tensors and with llama.cpp's activation quantization, weights split
// across bindings, poisoned outputs, and device memory accounting and release. Kernel comparisons
// are against float64 math on weights dequantized by the CPU codecs (bit-exact with ggml); whole
// forward passes, with each optional feature switched off in turn, against the CPU backend's
// reference kernels; and the work of a decoded token is counted (dispatches, submits, buffers).
import { strict as assert } from 'node:assert';
import { Tensor, scope, useBackend, defaultBackend, setDefaultBackend, type Backend } from '../src/tensor';
import { openWebGPU, type WebGPUBackend, type WebGPUOptions, type WebGPUStats } from '../src/backend/webgpu';
import { MAX_DISPATCHES_PER_SUBMIT } from '../src/backend/webgpu/batch';
import { CpuBackend } from '../src/backend/cpu';
import { LlamaModel, type NumericMode } from '../src/model/llama';
import { Decoder } from '../src/model/decoder';
import { View } from '../src/tensor/view';
import { openGGUF } from '../src/gguf';
import { quantize, dequantize, codecTypes, f16ToF32, f32ToF16 } from '../src/quant';
import { rng } from './helpers/tiny-gguf';
import { modelPath } from './helpers/references';
import { sharedWebGPU, WEBGPU_OPENGLES, WEBGPU_VULKAN } from './helpers/backends';
import * as R from './helpers/reference-ops';

// f32 accumulation over rows of up to 2048 values against float64, relative to the largest output.
const LINEAR_TOLERANCE = 1e-5;

const next = rng(4242);
function randn(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = Math.max(next(), 1e-12), v = next();
    return scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
}

/** x [tokens, width] times W^T for W [out, width] (dequantized), in float64: row-by-row dot products. */
function linearRef(x: ArrayLike<number>, tokens: number, width: number, w: ArrayLike<number>, out: number): Float64Array {
  const y = new Float64Array(tokens * out);
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let i = 0; i < width; i++) s += x[t * width + i] * w[o * width + i];
      y[t * out + o] = s;
    }
  }
  return y;
}

async function expectClose(t: Tensor, expected: ArrayLike<number>, tol: number, what: string): Promise<void> {
  const got = await t.data();
  const err = R.relativeError(got, expected);
  assert.ok(err <= tol, `${what}: relative error ${err} > ${tol}`);
}

/** What `b` did since its stats were `before`: every counter's difference, dispatches per kernel too. */
function statsSince(b: WebGPUBackend, before: WebGPUStats): WebGPUStats & { of(kernel: string): number } {
  const now = b.stats;
  const byKernel: Record<string, number> = {};
  for (const [k, n] of Object.entries(now.dispatchesByKernel)) byKernel[k] = n - (before.dispatchesByKernel[k] ?? 0);
  return {
    dispatches: now.dispatches - before.dispatches,
    dispatchesByKernel: byKernel,
    submits: now.submits - before.submits,
    copies: now.copies - before.copies,
    buffersCreated: now.buffersCreated - before.buffersCreated,
    buffersReused: now.buffersReused - before.buffersReused,
    bindGroupsCreated: now.bindGroupsCreated - before.bindGroupsCreated,
    pipelines: now.pipelines - before.pipelines,
    of: (kernel) => byKernel[kernel] ?? 0,
  };
}

/** The activation type ggml's CPU backend quantizes activations to for each weight type (vec_dot_type). */
const ACTIVATION_TYPE: Record<string, string> = {
  F16: 'F16', BF16: 'BF16', Q4_0: 'Q8_0', Q5_0: 'Q8_0', Q8_0: 'Q8_0', IQ4_NL: 'Q8_0', Q4_1: 'Q8_1', Q5_1: 'Q8_1', Q8_1: 'Q8_1',
  Q2_K: 'Q8_K', Q3_K: 'Q8_K', Q4_K: 'Q8_K', Q5_K: 'Q8_K', Q6_K: 'Q8_K', Q8_K: 'Q8_K', IQ4_XS: 'Q8_K',
};

/** x rounded through a block type by the CPU codecs: what llama.cpp's dot products see. */
function roundedThrough(type: string, x: Float32Array): Float32Array {
  return dequantize(type, quantize(type, x));
}

const ADAPTERS: [string, WebGPUOptions][] = [
  ['Vulkan lavapipe', WEBGPU_VULKAN],
  ['OpenGL ES llvmpipe', WEBGPU_OPENGLES],
];
/** The Vulkan adapter with every optional feature switched off: the fallbacks on a core device. */
const NO_FEATURES: WebGPUOptions = { backend: 'vulkan', features: { f16: false, subgroups: false, packedDot: false } };

describe('webgpu: adapters and features', () => {
  it('detects the core adapter with shader-f16, subgroups and packed int8 dot products', async () => {
    const b = await sharedWebGPU(WEBGPU_VULKAN);
    assert.match(b.description, /^webgpu: .*llvmpipe.* via vulkan \(core\)$/);
    assert.equal(b.capabilities.featureLevel, 'core');
    assert.ok(b.capabilities.f16 && b.capabilities.subgroups && b.capabilities.packedDot, JSON.stringify(b.capabilities));
    assert.ok(b.capabilities.software);
    assert.equal(b.capabilities.maxBindingBytes, 128 * 1024 * 1024);
  });

  it('detects the compatibility adapter without f16 or subgroups, with the adapter limits requested', async () => {
    const b = await sharedWebGPU(WEBGPU_OPENGLES);
    assert.match(b.description, /via opengles \(compatibility\)$/);
    assert.equal(b.capabilities.featureLevel, 'compatibility');
    assert.ok(!b.capabilities.f16 && !b.capabilities.subgroups, JSON.stringify(b.capabilities));
    // Dawn names Mesa's llvmpipe only in the adapter's `device` field here.
    assert.ok(b.capabilities.software);
    // The device default is 128 threads per workgroup in compatibility mode; the adapter allows more.
    assert.equal(b.capabilities.workgroupSize, 256);
  });

  it('runs the fallbacks (no f16, no subgroups, no dot4I8Packed) on a core device and agrees with float64', async () => {
    const b = await sharedWebGPU(NO_FEATURES);
    assert.ok(!b.capabilities.f16 && !b.capabilities.subgroups && !b.capabilities.packedDot);
    const x = randn(5 * 300);
    const rows = Array.from({ length: 5 }, (_, r) => Array.from(x.subarray(r * 300, (r + 1) * 300)));
    // Workgroup reductions (rows of 300 take the one-workgroup-per-row path).
    await expectClose(Tensor.from(x, [5, 300], { backend: b }).sum(-1), rows.map((r) => r.reduce((s, v) => s + v, 0)), 1e-6, 'sum');
    await expectClose(Tensor.from(x, [5, 300], { backend: b }).max(-1), rows.map((r) => Math.max(...r)), 0, 'max');
    await expectClose(Tensor.from(x, [5, 300], { backend: b }).argmax(-1), rows.map((r) => r.indexOf(Math.max(...r))), 0, 'argmax');
    await expectClose(Tensor.from(x, [5, 300], { backend: b }).softmax(), R.softmaxRef(x, 5, 300, 1, null, 5), 1e-5, 'softmax');
    // F16 weights without native f16 loads; Q4_K with Q8_K activations without dot4I8Packed.
    const w = randn(40 * 256, 0.05);
    const xs = randn(3 * 256);
    for (const type of ['F16', 'Q4_K', 'Q5_0']) {
      const wd = dequantize(type, quantize(type, w));
      const W = Tensor.fromBlocks(quantize(type, w), type, [40, 256], { backend: b });
      await expectClose(Tensor.from(xs, [3, 256], { backend: b }).linear(W), linearRef(xs, 3, 256, wd, 40), LINEAR_TOLERANCE, `${type} float`);
      const act = ACTIVATION_TYPE[type];
      const expected = linearRef(roundedThrough(act, xs), 3, 256, wd, 40);
      await expectClose(Tensor.from(xs, [3, 256], { backend: b }).linear(W, { activationType: act }), expected, LINEAR_TOLERANCE, `${type} x ${act}`);
    }
  });
});

for (const [adapter, options] of ADAPTERS) {
  describe(`webgpu on ${adapter}: quantized linear`, () => {
    let b: WebGPUBackend;
    before(async () => {
      b = await sharedWebGPU(options);
    });

    // Token counts: one (decoding: the matrix-vector kernel) and more than one 64-token tile.
    const TOKEN_COUNTS = [1, 67];
    // Every type found in model files; the other codec types are covered on random weights below.
    const FILES = ['q4_k_m', 'q5_1', 'q2_k', 'q3_k_m', 'q6_k', 'q8_0', 'bf16', 'f16', 'q4_0'];

    it('on real tensors of manllama-6m (every block type the files hold) equals dequantize-then-matmul in float64', async function () {
      this.timeout(300_000);
      const seen = new Set<string>();
      for (const suffix of FILES) {
        const f = openGGUF(modelPath(suffix));
        try {
          const byType = new Map<string, string>();
          for (const t of f.tensors) if (t.shape.length === 2 && !byType.has(t.type.name)) byType.set(t.type.name, t.name);
          for (const [type, name] of byType) {
            seen.add(type);
            const info = f.tensor(name);
            const [width, out] = info.shape;
            const W = Tensor.fromGGUF(f, name, { backend: b });
            const wd = f.readRows(info);
            for (const tokens of TOKEN_COUNTS) {
              const x = randn(tokens * width);
              await expectClose(Tensor.from(x, [tokens, width], { backend: b }).linear(W), linearRef(x, tokens, width, wd, out), LINEAR_TOLERANCE, `${suffix} ${name} (${type}) x ${tokens} tokens`);
            }
            const ids = [out - 1, 0, 7];
            await expectClose(Tensor.getRows(W, Tensor.from(ids, [3], { dtype: 'i32', backend: b })), ids.flatMap((i) => Array.from(wd.subarray(i * width, (i + 1) * width))), 0, `getRows ${name} (${type})`);
          }
        } finally {
          f.close();
        }
      }
      assert.deepEqual([...seen].sort(), ['BF16', 'F16', 'Q2_K', 'Q3_K', 'Q4_0', 'Q4_K', 'Q5_1', 'Q5_K', 'Q6_K', 'Q8_0']);
    });

    it("with llama.cpp's activation quantization (Q8_0, Q8_1, Q8_K, F16, BF16) for every block type equals float64 math on the rounded activations", async function () {
      this.timeout(120_000);
      const [out, width] = [24, 512];
      const w = randn(out * width, 0.05);
      for (const type of codecTypes().filter((t) => t.name !== 'F32')) {
        const act = ACTIVATION_TYPE[type.name];
        const bytes = quantize(type, w);
        const wd = dequantize(type, bytes);
        const W = Tensor.fromBlocks(bytes, type.name, [out, width], { backend: b });
        // 3 tokens: integer dot products of Q8 codes; 70 tokens: the tiled kernel on rounded activations.
        for (const tokens of [3, 70]) {
          const x = randn(tokens * width);
          const expected = linearRef(roundedThrough(act, x), tokens, width, wd, out);
          await expectClose(Tensor.from(x, [tokens, width], { backend: b }).linear(W, { activationType: act }), expected, LINEAR_TOLERANCE, `${type.name} x ${act}, ${tokens} tokens`);
        }
      }
    });
  });
}

describe('webgpu: i32 inputs of f32 kernels', () => {
  it('are converted as numbers (as the CPU reference does), never reinterpreted bit for bit', async () => {
    const b = await sharedWebGPU(WEBGPU_VULKAN);
    const I = (values: number[], shape: number[]) => Tensor.from(values, shape, { dtype: 'i32', backend: b });
    await expectClose(I([1, 2, 3, 4], [2, 2]).matmul(I([5, 6, 7, 8], [2, 2])), [19, 22, 43, 50], 0, 'matmul');
    await expectClose(I([3, 4], [1, 2]).rmsNorm(0), [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)], 1e-6, 'rmsNorm');
    await expectClose(I([0, 1], [1, 2]).softmax(), [1 / (1 + Math.E), Math.E / (1 + Math.E)], 1e-6, 'softmax');
    const mixed = Tensor.concat([Tensor.from([1.5, -2.5], [2], { backend: b }), I([3, -4], [2])], 0);
    await expectClose(mixed, [1.5, -2.5, 3, -4], 0, 'concat f32 + i32');
  });
});

describe('webgpu: roundF16', () => {
  it('rounds to the nearest f16, ties to even, with subnormals, overflow and NaN as ggml', async () => {
    const b = await sharedWebGPU(WEBGPU_OPENGLES);
    const ulp = 2 ** -10;
    const x = Float32Array.from([
      1 + ulp / 2, 1 + (3 * ulp) / 2, -(1 + ulp / 2) , 1 + ulp / 2 + 2 ** -20, // ties to even, just above a tie
      2 ** -25, 3 * 2 ** -25, 5.96e-8, -1e-6, 65519, 65520, -70000, 0, -0, NaN,
      ...randn(200, 100),
    ]);
    const got = await Tensor.from(x, [x.length], { backend: b }).roundF16().data();
    const expected = Array.from(x, (v) => f16ToF32(f32ToF16(v)));
    expected.forEach((e, i) => assert.ok(Object.is(got[i], e) || (Number.isNaN(e) && Number.isNaN(got[i])), `roundF16(${x[i]}) = ${got[i]}, expected ${e}`));
  });
});

describe('webgpu: weights larger than one storage binding', () => {
  const LIMIT = 64 * 1024;
  let b: WebGPUBackend;
  before(async () => {
    b = await sharedWebGPU({ backend: 'vulkan', maxBindingBytes: LIMIT });
  });

  it('linear and getRows read a weight window by window (Q8_0, Q6_K, F16 with unaligned rows, f32)', async () => {
    // Activations and outputs stay under the limit: 2 tokens (matrix-vector kernels), 12 (tiled).
    const cases: [string, number, number][] = [['Q8_0', 600, 256], ['Q6_K', 400, 512], ['F16', 300, 130], ['f32', 200, 100]];
    for (const [type, out, width] of cases) {
      const w = randn(out * width, 0.05);
      const bytes = type === 'f32' ? null : quantize(type, w);
      const W = bytes ? Tensor.fromBlocks(bytes, type, [out, width], { backend: b }) : Tensor.from(w, [out, width], { backend: b });
      const wd = bytes ? dequantize(type, bytes) : w;
      assert.ok((bytes?.length ?? w.byteLength) > LIMIT, `the ${type} weight must exceed the binding limit`);
      // One dispatch per window of whole rows; a window's aligned start may sit storageAlign bytes early.
      const rowBytes = (bytes?.length ?? w.byteLength) / out;
      const windows = Math.ceil(out / Math.floor((LIMIT - b.capabilities.storageAlign) / rowBytes));
      for (const tokens of [2, 12]) {
        const x = randn(tokens * width);
        const before = b.stats;
        await expectClose(Tensor.from(x, [tokens, width], { backend: b }).linear(W), linearRef(x, tokens, width, wd, out), LINEAR_TOLERANCE, `${type} linear x ${tokens}`);
        assert.equal(statsSince(b, before).of(tokens <= 8 ? 'linearVector' : 'linearTiled'), windows, `${type}: dispatches of linear x ${tokens}`);
      }
      if (type !== 'f32' && type !== 'F16') {
        const x = randn(2 * width);
        const act = ACTIVATION_TYPE[type];
        await expectClose(Tensor.from(x, [2, width], { backend: b }).linear(W, { activationType: act }), linearRef(roundedThrough(act, x), 2, width, wd, out), LINEAR_TOLERANCE, `${type} x ${act}`);
      }
      // Rows from every window, and one index outside the table (a NaN row: kernels cannot throw).
      const ids = [out - 1, 0, Math.floor(out / 2), out];
      const expected = ids.flatMap((i) => (i < out ? Array.from(wd.subarray(i * width, (i + 1) * width)) : new Array<number>(width).fill(NaN)));
      await expectClose(Tensor.getRows(W, Tensor.from(ids, [4], { dtype: 'i32', backend: b })), expected, 0, `${type} getRows`);
    }
  });

  it('dequantizes a whole weight whose f32 form exceeds the limit (written in chunks of rows)', async () => {
    // F16 rows of 101 values: 404-byte f32 rows, so aligned chunks hold fewer rows than a binding.
    for (const [type, out, width] of [['Q4_0', 300, 256], ['F16', 250, 101]] as const) {
      const w = randn(out * width, 0.05);
      const W = Tensor.fromBlocks(quantize(type, w), type, [out, width], { backend: b });
      assert.ok(out * width * 4 > LIMIT);
      await expectClose(W.cast('f32'), dequantize(type, quantize(type, w)), 0, `cast ${type}`);
      // 162 rows: an output that fits one binding although it is more rows than one aligned chunk.
      const ids = Array.from({ length: 162 }, (_, i) => (i * 7) % out);
      const expected = ids.flatMap((i) => Array.from(dequantize(type, quantize(type, w.subarray(i * width, (i + 1) * width)))));
      await expectClose(Tensor.getRows(W, Tensor.from(ids, [ids.length], { dtype: 'i32', backend: b })), expected, 0, `getRows ${type} x 162`);
    }
  });

  it('binds just the part of a large buffer a view reads, and names the limit when that part is too large', async () => {
    const x = randn(40_000);
    const big = Tensor.from(x, [400, 100], { backend: b });
    const slice = big.slice(0, 300, 310).mul(2);
    await expectClose(slice, Array.from(x.subarray(300 * 100, 310 * 100), (v) => 2 * v), 0, 'slice');
    await assert.rejects(big.exp().data(), /binds at once \(65536, maxStorageBufferBindingSize\).*slice the tensor/s);
  });
});

/**
 * Last-position logits of a 12-token prompt (more than 8 tokens: the tiled linear kernel) and of one
 * more token decoded with the KV cache (the matrix-vector kernels, integer ones in llama.cpp mode).
 */
async function promptAndNextLogits(backend: Backend, suffix: string, mode: NumericMode): Promise<Float32Array[]> {
  return scope(async () => {
    const model = await LlamaModel.load(modelPath(suffix), { backend });
    model.file.close();
    const cache = model.newCache();
    const prompt = Array.from({ length: 12 }, (_, i) => 300 + 37 * i);
    const logits: Float32Array[] = [];
    for (const tokens of [prompt, [42]]) {
      logits.push((await (await model.runWithHooks(tokens, {}, { mode, cache, logits: 'last' })).data()) as Float32Array);
    }
    return logits;
  }, backend);
}

/**
 * Logits of two tokens decoded after a prompt by a Decoder (the first step recorded with padded
 * attention and writeRows, the second a replay of it), and by the plain cached forward.
 */
async function decodedAndStepwise(backend: Backend, suffix: string, mode: NumericMode): Promise<{ decoded: Float32Array[]; stepwise: Float32Array[] }> {
  return scope(async () => {
    const model = await LlamaModel.load(modelPath(suffix), { backend });
    model.file.close();
    const prompt = Array.from({ length: 12 }, (_, i) => 300 + 37 * i);
    const run = async (useDecoder: boolean) => {
      const cache = model.newCache();
      await (await model.runWithHooks(prompt, {}, { mode, cache, logits: 'last' })).data();
      const decoder = new Decoder(model, cache, mode);
      const logits: Float32Array[] = [];
      for (const token of [43, 44]) {
        logits.push(useDecoder ? (await decoder.step(token)).slice() : ((await (await model.runWithHooks([token], {}, { mode, cache, logits: 'last' })).data()) as Float32Array));
      }
      decoder.dispose();
      return logits;
    };
    return { decoded: await run(true), stepwise: await run(false) };
  }, backend);
}

describe('webgpu: manllama forward against the CPU reference kernels, each optional feature off in turn', () => {
  // F16 weights (native f16 loads), K-quant blocks decoded through unpack4xI8, and Q8_0 / Q4_0
  // weights times Q8_0 activations (dot4I8Packed); subgroups reduce in every one of them.
  const CASES: [string, NumericMode][] = [['f16', 'float'], ['q4_k_m', 'float'], ['q8_0', 'llama.cpp'], ['q4_0', 'llama.cpp']];
  // f32 sums in another order. These cases cross no int8 or f16 rounding boundary on the way (Q4_K_M
  // in llama.cpp mode does: one Q8_K code off by one moves its prompt logits by ~5e-3).
  const TOLERANCE = 1e-5;
  const configs: [string, WebGPUOptions, (caps: WebGPUBackend['capabilities']) => boolean][] = [
    ['every feature on', WEBGPU_VULKAN, (c) => c.f16 && c.subgroups && c.packedDot],
    ['shader-f16 off', { backend: 'vulkan', features: { f16: false } }, (c) => !c.f16 && c.subgroups && c.packedDot],
    ['subgroups off', { backend: 'vulkan', features: { subgroups: false } }, (c) => c.f16 && !c.subgroups && c.packedDot],
    ['dot4I8Packed off', { backend: 'vulkan', features: { packedDot: false } }, (c) => c.f16 && c.subgroups && !c.packedDot],
    ['every feature off', NO_FEATURES, (c) => !c.f16 && !c.subgroups && !c.packedDot],
    ['OpenGL ES (compatibility)', WEBGPU_OPENGLES, (c) => !c.f16 && !c.subgroups],
    ['bindings of at most 64 KiB: weights read in windows', { backend: 'vulkan', maxBindingBytes: 64 * 1024 }, (c) => c.maxBindingBytes === 64 * 1024],
  ];
  const reference = new Map<string, Float32Array[]>();
  before(async function () {
    this.timeout(120_000);
    const cpu = new CpuBackend({ kernels: 'reference' });
    for (const [suffix, mode] of CASES) reference.set(`${suffix} ${mode}`, await promptAndNextLogits(cpu, suffix, mode));
  });

  for (const [name, options, expectCapabilities] of configs) {
    it(`${name}: prompt and next-token logits equal the CPU's; a decoder's equal the cached forward's`, async function () {
      this.timeout(120_000);
      const b = await sharedWebGPU(options);
      assert.ok(expectCapabilities(b.capabilities), JSON.stringify(b.capabilities));
      for (const [suffix, mode] of CASES) {
        const got = await promptAndNextLogits(b, suffix, mode);
        const expected = reference.get(`${suffix} ${mode}`)!;
        for (const [i, what] of ['prompt', 'next token'].entries()) {
          const err = R.relativeError(got[i], expected[i]);
          assert.ok(err <= TOLERANCE, `${suffix} ${mode}, ${what}: relative error ${err} > ${TOLERANCE}`);
        }
        // A decoder's recorded and replayed steps on this device: the plain cached forward's values,
        // bit for bit. (With 64 KiB bindings the padded attention's 256 keys, 128 KiB, do not fit a
        // matmul binding; that limit is the unpadded forward's too, from 128 positions on.)
        if (options.maxBindingBytes) continue;
        const { decoded, stepwise } = await decodedAndStepwise(b, suffix, mode);
        decoded.forEach((row, i) => assert.ok(row.every((v, j) => Object.is(v, stepwise[i][j])), `${suffix} ${mode}: decoder step ${i + 1} differs from the cached forward`));
      }
    });
  }
});

describe('webgpu: the work of one decoded token (manllama Q8_0)', () => {
  // Outputs not poisoned: the fills would be dispatches too.
  const UNPOISONED: WebGPUOptions = { backend: 'vulkan', poison: false };

  for (const mode of ['float', 'llama.cpp'] as const) {
    it(`${mode}: one dispatch per kernel (plus one Q8 quantization per distinct linear input), ceil(dispatches / ${MAX_DISPATCHES_PER_SUBMIT}) submits`, async function () {
      this.timeout(120_000);
      const b = await sharedWebGPU(UNPOISONED);
      let kernels = 0;
      const run = b.run;
      b.run = (kernel) => {
        kernels++;
        return run.call(b, kernel);
      };
      try {
        await scope(async () => {
          const model = await LlamaModel.load(modelPath('q8_0'), { backend: b });
          model.file.close();
          const blocks = model.hparams.blockCount;
          const cache = model.newCache();
          // The prompt, and a first decoded token that fills the pool with buffers of its sizes.
          for (const tokens of [[1, 450, 4996], [99]]) await (await model.runWithHooks(tokens, {}, { mode, cache, logits: 'last' })).data();
          for (let token = 0; token < 4; token++) {
            kernels = 0;
            const before = b.stats;
            const logits = await model.runWithHooks([100 + token], {}, { mode, cache, logits: 'last' });
            await logits.data();
            logits.dispose();
            const s = statsSince(b, before);
            // Seven linears per block (q, k, v, output, gate, up, down) and the output head, each one
            // dispatch: every manllama weight fits one binding.
            assert.equal(s.of(mode === 'float' ? 'linearVector' : 'linearQ8'), 7 * blocks + 1, 'linear dispatches');
            // Q8_0 activations are made once per distinct input: the attention input (for q, k, v),
            // the attention output, the FFN input (gate, up), the FFN hidden state, the final norm.
            const quantized = mode === 'float' ? 0 : 4 * blocks + 1;
            assert.equal(s.of('quantizeActivations'), quantized, 'activation quantizations');
            // The new K and V rows are written into the cache by one writeRows dispatch each per block.
            assert.equal(s.of('writeRows'), 2 * blocks, 'cache writes');
            assert.equal(s.dispatches, kernels + quantized + 2 * blocks, `dispatches for ${kernels} kernels: ${JSON.stringify(s.dispatchesByKernel)}`);
            // The logits' read submits the last chunk: no submit beyond the batching limit's.
            assert.equal(s.submits, Math.ceil(s.dispatches / MAX_DISPATCHES_PER_SUBMIT), `submits for ${s.dispatches} dispatches`);
            // New buffers: the token id and position the model uploads, and the attention scores and
            // probabilities when their size, one column more every token, passes a pool size class.
            assert.ok(s.buffersCreated <= 4, `${s.buffersCreated} buffers created`);
          }
        }, b);
      } finally {
        b.run = run;
      }
    });
  }

  it('a repeated forward pass takes every result buffer from the pool, in the same order, and reads back through a kept buffer', async function () {
    this.timeout(120_000);
    const b = await sharedWebGPU(UNPOISONED);
    await scope(async () => {
      const model = await LlamaModel.load(modelPath('q8_0'), { backend: b });
      model.file.close();
      const forward = async () => {
        const logits = model.forward([5, 6, 7], { mode: 'llama.cpp', logits: 'last' });
        await logits.data();
        logits.dispose();
      };
      // The first pass creates the buffers; the second is the first to start with all of them pooled.
      await forward();
      await forward();
      const before = b.stats;
      await forward();
      const s = statsSince(b, before);
      // The only new buffers are the pass's own inputs, uploaded by the model: token ids, positions.
      assert.ok(s.buffersCreated <= 2, `${s.buffersCreated} buffers created`);
      assert.ok(s.buffersReused > 100, `${s.buffersReused} buffers reused`);
      // Every result lands in the buffer it had last time, so only the kernels reading the new
      // uploads (getRows, and rope on q and k in every block) need new bind groups.
      const blocks = model.hparams.blockCount;
      assert.ok(s.bindGroupsCreated <= 1 + 2 * blocks, `${s.bindGroupsCreated} bind groups created`);
    }, b);
  });
});

describe('webgpu: activations quantized once per input', () => {
  it('linears reading one input share its Q8 codes; an in-place write to the input makes new ones', async () => {
    const b = await sharedWebGPU(WEBGPU_VULKAN);
    const [out, width] = [16, 64];
    const weights = [0, 1, 2].map(() => quantize('Q8_0', randn(out * width, 0.05)));
    const W = weights.map((bytes) => Tensor.fromBlocks(bytes, 'Q8_0', [out, width], { backend: b }));
    const x = Tensor.from(randn(width), [1, width], { backend: b });
    const before = b.stats;
    const ys = W.map((w) => x.linear(w, { activationType: 'Q8_0' }));
    await Promise.all(ys.map((y) => y.data()));
    assert.equal(statsSince(b, before).of('quantizeActivations'), 1);
    // The codes belong to x's buffer; rewriting it in place must not leave them stale.
    const fresh = randn(width);
    const written = x.write(Tensor.from(fresh, [1, width], { backend: b }), 0);
    const expected = linearRef(roundedThrough('Q8_0', fresh), 1, width, dequantize('Q8_0', weights[0]), out);
    await expectClose(written.linear(W[0], { activationType: 'Q8_0' }), expected, LINEAR_TOLERANCE, 'after the write');
  });
});

describe('webgpu: concat', () => {
  it('writes every part in one dispatch, or one per group of parts when they exceed the bindings', async () => {
    const b = await sharedWebGPU(WEBGPU_VULKAN);
    const perDispatch = b.capabilities.maxStorageBuffersPerStage - 1;
    for (const count of [2, perDispatch + 3]) {
      const parts = Array.from({ length: count }, (_, i) => randn(3 * (i + 1) * 2));
      const tensors = parts.map((p, i) => Tensor.from(p, [3, i + 1, 2], { backend: b }));
      await Promise.all(tensors.map((t) => t.data()));
      const expected = [0, 1, 2].flatMap((row) => parts.flatMap((p, i) => Array.from(p.subarray(row * (i + 1) * 2, (row + 1) * (i + 1) * 2))));
      const before = b.stats;
      await expectClose(Tensor.concat(tensors, 1), expected, 0, `concat of ${count} parts`);
      assert.equal(statsSince(b, before).of('concat'), Math.ceil(count / perDispatch));
    }
    // Strided views and i32 parts are made dense f32 first.
    const x = Tensor.from(randn(24), [4, 6], { backend: b });
    const ints = Tensor.from([1, -2, 3, -4, 5, -6, 7, -8], [4, 2], { dtype: 'i32', backend: b });
    const xs = Array.from(await x.data());
    const expected = [0, 1, 2, 3].flatMap((r) => [xs[6 * r], xs[6 * r + 1], ...[1, -2, 3, -4, 5, -6, 7, -8].slice(2 * r, 2 * r + 2), xs[6 * r + 1], xs[6 * r + 2]]);
    await expectClose(Tensor.concat([x.T.slice(0, 0, 2).T, ints, x.slice(1, 1, 3)], 1), expected, 0, 'views and i32');
  });
});

describe('webgpu: poisoned outputs', () => {
  it('an element no kernel wrote reads back as NaN, also in a reused buffer', async () => {
    const b = await sharedWebGPU(WEBGPU_VULKAN);
    const part = Tensor.from([1, 2, 3, 4], [4], { backend: b });
    await part.data();
    const input = { buffer: part.node.buffer!, view: View.contiguous([4]) };
    // A faulty kernel: a concat told its output has 8 elements while its only input has 4.
    const faulty = () => b.run({ kind: 'op', args: { op: 'concat', axis: 0 }, inputs: [input], shape: [8], dtype: 'f32' });
    const first = faulty();
    const values = Array.from(await b.read(first, View.contiguous([8])));
    assert.deepEqual(values.slice(0, 4), [1, 2, 3, 4]);
    assert.ok(values.slice(4).every(Number.isNaN), `unwritten elements read ${values.slice(4)}`);
    assert.equal(R.relativeError(values, [1, 2, 3, 4, 0, 0, 0, 0]), Infinity, 'the test comparison catches them');
    // A complete kernel of the same size fills a buffer, which then goes back to the pool ...
    const full = b.run({ kind: 'elementwise', expr: { kind: 'const', value: 5 }, inputs: [], shape: [8], dtype: 'f32' });
    assert.deepEqual(Array.from(await b.read(full, View.contiguous([8]))), new Array(8).fill(5));
    b.free(full);
    // ... and the faulty kernel's next output reuses it: still NaN, not the stale 5s.
    const second = faulty();
    assert.ok(Array.from(await b.read(second, View.contiguous([8]))).slice(4).every(Number.isNaN));
    b.free(first);
    b.free(second);
  });
});

describe('webgpu: device memory', () => {
  let b: WebGPUBackend;
  before(async () => {
    b = await sharedWebGPU(WEBGPU_VULKAN);
  });

  it('a quantized GGUF tensor occupies its byte size (rounded up to 4 bytes), never an f32 copy', async () => {
    const f = openGGUF(modelPath('q4_k_m'));
    try {
      for (const name of ['blk.0.ffn_down.weight', 'output.weight', 'blk.0.attn_q.weight']) {
        const info = f.tensor(name);
        const before = b.bytesInUse;
        const W = Tensor.fromGGUF(f, name, { backend: b });
        assert.equal(b.bytesInUse - before, Math.ceil(info.nBytes / 4) * 4, name);
        assert.equal(W.dtype, info.type.name);
      }
    } finally {
      f.close();
    }
    // A single Q4_0 block is 18 bytes: 20 on the device.
    const before = b.bytesInUse;
    Tensor.fromBlocks(quantize('Q4_0', randn(32)), 'Q4_0', [1, 32], { backend: b });
    assert.equal(b.bytesInUse - before, 20);
  });

  it('dispose frees a result; intermediates are freed as soon as consumed; trim gives pooled buffers back', async () => {
    const W = Tensor.fromBlocks(quantize('Q8_0', randn(64 * 128, 0.05)), 'Q8_0', [64, 128], { backend: b });
    const x = Tensor.from(randn(4 * 128), [4, 128], { backend: b });
    const before = b.bytesInUse;
    const y = x.linear(W).rmsNorm(1e-5).softmax({ scale: 2 });
    await y.data();
    assert.equal(b.bytesInUse - before, 4 * 64 * 4, 'only the [4, 64] result stays');
    y.dispose();
    assert.equal(b.bytesInUse, before);
    assert.ok(b.bytesPooled > 0);
    const pooled = b.bytesPooled;
    assert.equal(b.trim(), pooled);
    assert.equal(b.bytesPooled, 0);
  });

  it('scope frees everything a cell made except the tensors it returns', async () => {
    const before = b.bytesInUse;
    const x = randn(4 * 64);
    let inside: Tensor | null = null;
    const kept = await scope(async () => {
      const a = Tensor.from(x, [4, 64], { backend: b });
      inside = a.exp().sum(-1);
      await inside.data();
      return { result: a.mul(2).softmax(), note: 'returned objects are searched for tensors' };
    }, b);
    assert.equal(b.bytesInUse - before, 4 * 64 * 4, 'only the returned [4, 64] result stays');
    await expectClose(kept.result, R.softmaxRef(Array.from(x, (v) => 2 * v), 4, 64, 1, null, 4), 1e-5, 'kept result');
    await assert.rejects(inside!.data(), /already released .*return the tensor from its scope/);
    kept.result.dispose();
    assert.equal(b.bytesInUse, before);
  });

  /** The byte counts an allocation error names: [asked for, held]. */
  function namedBytes(message: string): [number, number] {
    const asked = /could not allocate [\d.]+ \w+ \((\d+) bytes\)/.exec(message);
    const held = /; (?:[\d.]+ \w+ \()?(\d+) bytes\)? held/.exec(message);
    assert.ok(asked && held, message);
    return [Number(asked[1]), Number(held[1])];
  }

  it('a result larger than maxBufferSize fails at once, naming the bytes asked for, the limit and the bytes held', async () => {
    const limit = b.device.limits.maxBufferSize;
    const values = (Math.floor(limit / 16) + 1) * 4; // a whole number of 16-byte units past the limit
    const huge = Tensor.from([1], [1], { backend: b }).expand(values).exp();
    await assert.rejects(huge.data(), (e: unknown) => {
      const message = (e as Error).message;
      assert.match(message, new RegExp(`^realizing exp\\(\\[${values}\\] f32\\) -> \\[${values}\\] f32 on webgpu: .* failed: could not allocate .* for ${values} f32 values`));
      assert.deepEqual(namedBytes(message), [values * 4, b.bytesInUse]);
      assert.match(message, new RegExp(`one buffer holds at most [\\d.]+ GiB \\(${limit} bytes\\) here \\(maxBufferSize\\)`));
      assert.match(message, /Freeing memory cannot help/);
      return true;
    });
  });

  it('past maxMemoryBytes an allocation fails naming what is asked for and held; after freeing, the same succeeds', async () => {
    const budget = await sharedWebGPU({ backend: 'vulkan', maxMemoryBytes: 1 << 20 });
    const n = 65536; // 256 KiB of f32
    const x = Tensor.from(randn(n), [n], { backend: budget });
    const y = x.exp();
    await y.data();
    const joined = Tensor.concat([x, x, x], 0); // 768 KiB more: past the 1 MiB budget
    await assert.rejects(joined.data(), (e: unknown) => {
      const message = (e as Error).message;
      assert.match(message, /^realizing concat\(.*\) -> \[196608\] f32 on webgpu: .* failed: out of memory: could not allocate .* for 196608 f32 values/);
      assert.deepEqual(namedBytes(message), [3 * n * 4, 2 * n * 4]);
      assert.equal(budget.bytesInUse, 2 * n * 4);
      assert.match(message, /held in 2 live buffers, maxMemoryBytes 1\.00 MiB \(1048576 bytes\)\. Free tensors you no longer need: t\.dispose\(\)/);
      return true;
    });
    // An upload is checked the same way, and says which device it is.
    assert.throws(() => Tensor.from(new Float32Array(3 * n), [3 * n], { backend: budget }), (e: unknown) => {
      assert.match((e as Error).message, /^webgpu: .*: out of memory: could not allocate 768\.00 KiB \(786432 bytes\) for 196608 f32 values; 512\.00 KiB \(524288 bytes\) held in 2 live buffers/);
      return true;
    });
    // Freed memory goes to the pool; the budget gives it back to the device to make room.
    y.dispose();
    const xs = Array.from(await x.data());
    await expectClose(joined, [...xs, ...xs, ...xs], 0, 'concat within the budget');
    assert.equal(budget.bytesInUse, 4 * n * 4);
    assert.equal(budget.bytesPooled, 0);
  });

  it('a device that runs out of memory: its error names the allocation and what was held, and the backend stops', async () => {
    const device = await openWebGPU({ backend: 'vulkan' });
    try {
      const first = Tensor.from(randn(16), [16], { backend: device });
      // Software adapters take memory from the host and do not run out; the device's answer to the
      // next allocation is simulated, everything else is the real path.
      const pop = device.device.popErrorScope.bind(device.device);
      let answer: GPUError | null = new GPUOutOfMemoryError('simulated: no memory left');
      device.device.popErrorScope = async () => {
        const real = await pop();
        const simulated = answer;
        answer = null;
        return real ?? simulated;
      };
      const x = Tensor.from(randn(1000), [1000], { backend: device });
      await assert.rejects(x.exp().data(), (e: unknown) => {
        const message = (e as Error).message;
        // Raised by the read or by the kernel, depending on when the device's answer arrived.
        assert.match(message, /out of memory: could not allocate .* for 1000 f32 values \("simulated: no memory left"\)/);
        assert.deepEqual(namedBytes(message), [1000 * 4, 16 * 4]);
        assert.match(message, /held in 1 live buffer\. This backend cannot be used any more: open a new one/);
        return true;
      });
      await assert.rejects(first.data(), /simulated: no memory left/);
    } finally {
      device.destroy();
    }
  });
});

describe('backend choice', () => {
  const saved = process.env.LLAMASCOPE_BACKEND;
  let previous: Backend;
  before(() => {
    previous = defaultBackend();
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.LLAMASCOPE_BACKEND;
    else process.env.LLAMASCOPE_BACKEND = saved;
    const current = defaultBackend();
    if (current !== previous && current.name === 'webgpu') (current as WebGPUBackend).destroy();
    setDefaultBackend(previous);
  });

  it('follows LLAMASCOPE_BACKEND for auto and reports the chosen adapter', async () => {
    process.env.LLAMASCOPE_BACKEND = 'webgpu:opengles';
    const b = await useBackend('auto');
    assert.equal(b.name, 'webgpu');
    assert.match(b.description, /OpenGL ES .* via opengles \(compatibility\)/);
    assert.equal(defaultBackend(), b);
    assert.deepEqual(Array.from(await Tensor.from([1, 2, 3]).mul(2).data()), [2, 4, 6]);
  });

  it('an explicit name wins over the environment; a bad value is named', async () => {
    process.env.LLAMASCOPE_BACKEND = 'cpu';
    const b = await useBackend('webgpu', { backend: 'vulkan' });
    assert.match(b.description, /via vulkan/);
    (b as WebGPUBackend).destroy();
    assert.equal((await useBackend('auto')).name, 'cpu');
    process.env.LLAMASCOPE_BACKEND = 'tpu';
    await assert.rejects(useBackend('auto'), /LLAMASCOPE_BACKEND=tpu is not one of cpu, auto, webgpu/);
  });

  it('auto takes WebGPU only on a hardware adapter (software WebGPU is slower than the CPU kernels)', async () => {
    delete process.env.LLAMASCOPE_BACKEND;
    const probe = await openWebGPU();
    const hardware = !probe.capabilities.software;
    probe.destroy();
    const b = await useBackend('auto');
    assert.equal(b.name, hardware ? 'webgpu' : 'cpu');
  });
});
