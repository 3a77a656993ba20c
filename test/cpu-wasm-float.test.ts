// The CPU backend's WASM fast path where activations stay float32 (wasm/linear-float.ts):
// - the float numeric mode, every weight type, against the reference kernels (ops/linear.ts:
//   the exactly dequantized weights times the activations, summed in float64);
// - the llama.cpp mode's f32 and f16 weights, which must give the reference's float32 bits.
import assert from 'node:assert/strict';
import { CpuBackend } from '../src/backend/cpu';
import { Tensor, type Backend } from '../src/tensor';
import { typeByName } from '../src/quant/types';
import { openGGUF } from '../src/gguf';
import { LlamaModel } from '../src/model/llama';
import { modelPath } from './helpers/references';
import { bitsEqual, random, SIMD_BUILDS } from './helpers/fast-path';

/**
 * |fast - reference| <= 16 u sum_i |w_i x_i| (u = 2^-24) for every output. The fast path sums
 * code * x per 32-value group in float32 lanes — at most 10 roundings per term — and the groups
 * in float64 (value = d * code + offset, c/float-codes.h): at most 10 u sum |d code x|, and the
 * centred codes keep sum |d code x| near sum |w x|. The reference adds its own float32 rounding
 * of each dequantized weight (up to 2 u of the products it rounds) and each side rounds its result
 * once. Relative to sum |w x| rather than |y| so that cancelling terms do not make it meaningless.
 * Measured: at most 3.3 u on the random weights here (Q2_K), 1.8 u on the manllama weights.
 */
const TOLERANCE = 16 * 2 ** -24;

const FLOAT_MODE_TYPES = ['f32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL', 'IQ4_XS'];

interface Weight {
  /** The weight on a backend: f32 values, or blocks of its type. */
  on(backend: Backend): Tensor;
  /** Its values as the reference dequantizes them, [out, width]. */
  values: Float32Array;
}

/** A weight of `type` from values with the spread of trained weights, the first 64 zero. */
function weight(type: string, out: number, width: number, seed: number): Weight {
  const next = random(seed);
  const values = new Float32Array(out * width).map((_, i) => (i < 64 ? 0 : next() * (i % 7 === 0 ? 2 : 0.1)));
  if (type === 'f32') return { on: (backend) => Tensor.from(values, [out, width], { backend }), values };
  const t = typeByName(type)!;
  const bytes = new Uint8Array(((out * width) / t.blockSize) * t.typeSize);
  t.codec!.quantize(values, bytes);
  const dequantized = new Float32Array(out * width);
  t.codec!.dequantize(bytes, dequantized);
  return { on: (backend) => Tensor.fromBlocks(bytes, type, [out, width], { backend }), values: dequantized };
}

/** Activations with outliers; rows of 256 or more start with 256 zeros (a whole zero block). */
function activations(rows: number, width: number, seed: number): Float32Array {
  const next = random(seed);
  return new Float32Array(rows * width).map((_, i) => (i < 256 && width >= 256 ? 0 : next() * (i % 97 === 0 ? 40 : 3)));
}

/** Asserts |fast - reference| <= TOLERANCE * sum |w x| for every output; returns the largest ratio to that sum, in units of u. */
function assertWithinTolerance(fast: Float32Array, reference: Float32Array, x: Float32Array, w: Float32Array, rows: number, width: number, what: string): number {
  const out = w.length / width;
  assert.equal(fast.length, rows * out);
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let magnitude = 0;
      for (let i = 0; i < width; i++) magnitude += Math.abs(x[r * width + i] * w[o * width + i]);
      const error = Math.abs(fast[r * out + o] - reference[r * out + o]);
      if (!(error <= TOLERANCE * magnitude)) {
        assert.fail(`${what}: output [${r}, ${o}] is ${fast[r * out + o]} on the fast path, ${reference[r * out + o]} on the reference kernels: ${error} > ${TOLERANCE} x ${magnitude}`);
      }
      if (magnitude > 0) worst = Math.max(worst, error / magnitude);
    }
  }
  return worst / 2 ** -24;
}

describe('CPU fast path: linear with float32 activations', () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  const linear = (b: Backend, x: Float32Array, rows: number, width: number, w: Weight, activationType: string | null = null) =>
    Tensor.from(x, [rows, width], { backend: b }).linear(w.on(b), { activationType }).data() as Promise<Float32Array>;

  describe(`the float mode is within ${TOLERANCE / 2 ** -24} u * sum |w x| of the reference kernels`, () => {
    // Kernels with less than 2^19 multiply-adds run on one thread (runtime.ts): the first three
    // shapes are larger, to split across threads. Activation rows go four, then two, then one at a
    // time through a weight row: 7 = 4 + 2 + 1, 3 = 2 + 1, 8 = 4 + 4.
    const shapes: [rows: number, width: number, out: number][] = [
      [1, 2048, 262],
      [7, 256, 293],
      [3, 1024, 171],
      [8, 256, 13],
    ];
    // f32 / f16 / bf16 rows need not be whole 32-value groups.
    const floatShapes: [number, number, number][] = [...shapes, [5, 100, 9], [2, 7, 3]];
    const weights = new Map<string, Weight>();
    const weightFor = (type: string, out: number, width: number) => {
      const key = `${type} ${out} ${width}`;
      if (!weights.has(key)) weights.set(key, weight(type, out, width, out * 31 + width));
      return weights.get(key)!;
    };
    for (const simd of SIMD_BUILDS) for (const threads of [1, 2, 3]) {
      const fast = new CpuBackend({ kernels: 'wasm', threads, simd });
      for (const type of FLOAT_MODE_TYPES) {
        for (const [rows, width, out] of ['f32', 'F16', 'BF16'].includes(type) ? floatShapes : shapes) {
          it(`${type}: ${rows} x ${width} by ${out} x ${width}, ${threads} thread${threads > 1 ? 's' : ''}, ${simd}`, async () => {
            const w = weightFor(type, out, width);
            const x = activations(rows, width, rows + width);
            assertWithinTolerance(await linear(fast, x, rows, width, w), await linear(reference, x, rows, width, w), x, w.values, rows, width, type);
          });
        }
      }
    }

    it('f16: infinities and NaNs among the weights come out as on the reference kernels', async () => {
      const [rows, width, out] = [3, 96, 5];
      const values = new Float32Array(out * width).map((_, i) => Math.sin(i) * 0.1);
      values[3] = Infinity;
      values[width + 40] = -Infinity;
      values[2 * width + 70] = NaN;
      values[3 * width + 5] = 3e-6; // an f16 subnormal
      const bytes = new Uint8Array(2 * out * width);
      typeByName('F16')!.codec!.quantize(values, bytes);
      const w: Weight = { on: (backend) => Tensor.fromBlocks(bytes, 'F16', [out, width], { backend }), values };
      const x = activations(rows, width, 3).map((v) => v + 1);
      const [fast, slow] = [await linear(new CpuBackend({ kernels: 'wasm', threads: 1 }), x, rows, width, w), await linear(reference, x, rows, width, w)];
      for (let i = 0; i < fast.length; i++) {
        if (Number.isFinite(slow[i])) assert.ok(Math.abs(fast[i] - slow[i]) <= 1e-6 * Math.abs(slow[i]), `output ${i}: ${fast[i]} vs ${slow[i]}`);
        else assert.ok(Object.is(fast[i], slow[i]) || (Number.isNaN(fast[i]) && Number.isNaN(slow[i])), `output ${i}: ${fast[i]} vs ${slow[i]}`);
      }
    });

    const files = ['f32', 'f16', 'bf16', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q8_0', 'q2_k', 'q3_k_m', 'q4_k_m', 'q5_k_m', 'q6_k'];
    for (const suffix of files) {
      it(`manllama ${suffix}: every matrix of the file`, async () => {
        const file = openGGUF(modelPath(suffix));
        const fast = new CpuBackend({ kernels: 'wasm', threads: 2 });
        for (const info of file.tensors.filter((t) => t.shape.length === 2)) {
          const [out, width] = [...info.shape].reverse();
          const rows = 3;
          const x = activations(rows, width, out + width);
          const w: Weight = { on: (backend) => Tensor.fromGGUF(file, info.name, { backend }), values: file.readRows(info) };
          assertWithinTolerance(await linear(fast, x, rows, width, w), await linear(reference, x, rows, width, w), x, w.values, rows, width, `${info.name} (${info.type.name})`);
        }
      });
    }

    for (const suffix of ['f32', 'f16', 'q4_0', 'q8_0', 'q4_k_m']) {
      it(`manllama ${suffix}: a prompt's logits and three cached decode steps' differ by less than 2e-6 of the largest logit`, async function () {
        this.timeout(120_000);
        // measured: at most 3.5e-7 (the linear layers' differences, carried through eight blocks)
        const tokens = Array.from({ length: 24 }, (_, i) => (i * 37 + 5) % 2048);
        const logits = async (backend: Backend) => {
          const model = await LlamaModel.load(modelPath(suffix), { backend });
          const cache = model.newCache();
          const steps = [(await model.forward(tokens, { mode: 'float', cache }).data()) as Float32Array];
          for (const next of [7, 1100, 42]) steps.push((await model.forward([next], { mode: 'float', cache }).data()) as Float32Array);
          return steps;
        };
        const [fast, slow] = [await logits(new CpuBackend({ kernels: 'wasm', threads: 2 })), await logits(reference)];
        fast.forEach((f, step) => {
          const largest = slow[step].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          const worst = f.reduce((m, v, i) => Math.max(m, Math.abs(v - slow[step][i])), 0);
          assert.ok(worst <= 2e-6 * largest, `${step === 0 ? 'prompt' : `decode step ${step}`}: logits differ by ${worst}, the largest is ${largest}`);
        });
      });
    }
  });

  describe('the llama.cpp mode with f32 and f16 weights equals the reference kernels bit for bit', () => {
    // tinyBLAS for >= 2 rows when the width is whole vectors (8 or 16 lanes) and out % 4 == 0;
    // ggml_vec_dot_f32 / _f16 otherwise, with leftovers past the last 4 vectors.
    const shapes: [rows: number, width: number, out: number][] = [
      [1, 2048, 262], // vec_dot
      [6, 2048, 44], // tinyBLAS, split across threads
      [5, 256, 40], // tinyBLAS, an odd row left over
      [3, 256, 38], // out % 4 != 0: vec_dot
      [2, 200, 12], // width not whole vectors: vec_dot, 8 leftovers
      [4, 96, 8], // tinyBLAS on AVX-512 and AVX2; vec_dot rows have 32 leftovers with AVX-512
    ];
    for (const simd of SIMD_BUILDS) for (const threads of [1, 2, 3]) {
      const fast = new CpuBackend({ kernels: 'wasm', threads, simd });
      for (const [type, activation] of [['f32', 'F32'], ['F16', 'F16']]) {
        for (const [rows, width, out] of shapes) {
          it(`${type}: ${rows} x ${width} by ${out} x ${width}, ${threads} thread${threads > 1 ? 's' : ''}, ${simd}`, async () => {
            const w = weight(type, out, width, out + width);
            const x = activations(rows, width, rows * width);
            bitsEqual(await linear(fast, x, rows, width, w, activation), await linear(reference, x, rows, width, w, activation), `${type} linear`);
          });
        }
      }
    }

    for (const suffix of ['f32', 'f16']) {
      it(`manllama ${suffix}: a prompt's logits and a cached decode step's are the same bits on both`, async function () {
        this.timeout(120_000);
        const tokens = Array.from({ length: 24 }, (_, i) => (i * 37 + 5) % 2048);
        const logits = async (backend: Backend) => {
          const model = await LlamaModel.load(modelPath(suffix), { backend });
          const cache = model.newCache();
          const prompt = (await model.forward(tokens, { mode: 'llama.cpp', cache }).data()) as Float32Array;
          return [prompt, (await model.forward([7], { mode: 'llama.cpp', cache }).data()) as Float32Array];
        };
        const [fast, slow] = [await logits(new CpuBackend({ kernels: 'wasm', threads: 2 })), await logits(reference)];
        fast.forEach((f, i) => bitsEqual(f, slow[i], `${suffix} logits, ${i === 0 ? 'prompt' : 'decode step'}`));
      });
    }
  });
});
