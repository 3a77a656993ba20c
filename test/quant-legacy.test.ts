// The legacy block codecs (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1) against what llama.cpp itself
// produced for manllama-6m: its dequantized tensors (references/dequant) and its quantized files.
import { strict as assert } from 'node:assert';
import { openGGUF, type GGUFFile, type GGUFTensorInfo } from '../src/gguf';
import type { BlockCodec } from '../src/quant/codec';
import { F16_TO_F32, f32ToF16 } from '../src/quant/half';
import { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 } from '../src/quant/legacy';
import { dequantReferences, fnv1a64, haveSharedModels, modelPath, type DequantReference } from './helpers/references';
import { rng } from './helpers/tiny-gguf';

const QK = 32;
const FILE_CODECS: Record<string, BlockCodec> = { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 };
const ALL_CODECS: Record<string, BlockCodec> = { ...FILE_CODECS, Q8_1 };
const TYPE_SIZE: Record<string, number> = { Q4_0: 18, Q4_1: 20, Q5_0: 22, Q5_1: 24, Q8_0: 34, Q8_1: 36 };

/** Files holding legacy-typed tensors; the non-pure ones mix in a Q6_K output.weight. */
const FILES_WITH_LEGACY = ['q4_0', 'q4_0-pure', 'q4_1', 'q4_1-pure', 'q5_0', 'q5_0-pure', 'q5_1', 'q5_1-pure', 'q8_0'];
/** Files where every matrix was quantized by ggml's reference quantizer from the F32 file. */
const PURE_FILES = ['q4_0-pure', 'q4_1-pure', 'q5_0-pure', 'q5_1-pure', 'q8_0'];

function withFile<T>(suffix: string, use: (file: GGUFFile) => T): T {
  const file = openGGUF(modelPath(suffix));
  try {
    return use(file);
  } finally {
    file.close();
  }
}

function legacyTensors(file: GGUFFile): GGUFTensorInfo[] {
  return file.tensors.filter((t) => t.type.name in FILE_CODECS);
}

function asFloat32(bytes: Uint8Array): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4);
}

/** Little-endian float32 bytes (every platform Node runs on is little-endian). */
function float32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function dequantizeTensor(file: GGUFFile, t: GGUFTensorInfo): Float32Array {
  const out = new Float32Array(t.nElements);
  FILE_CODECS[t.type.name].dequantize(file.readTensorBytes(t), out);
  return out;
}

/** First difference between a reference row and ours, bit for bit, as a readable message. */
function rowMismatch(ref: DequantReference, row: string, ours: Float32Array): string | undefined {
  const expected = Float32Array.from(ref.rows[row]);
  const start = Number(row) * ref.ne[0];
  for (let i = 0; i < expected.length; i++) {
    const got = ours[start + i];
    if (!Object.is(got, expected[i])) {
      return `${ref.name} row ${row} column ${i} (block ${Math.floor((start + i) / QK)}): llama.cpp ${expected[i]}, ours ${got}`;
    }
  }
  return undefined;
}

describe('legacy quants (Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1)', () => {
  describe('against llama.cpp on manllama-6m', function () {
    before(function () {
      if (!haveSharedModels()) this.skip();
    });

    for (const suffix of FILES_WITH_LEGACY) {
      it(`${suffix}: every legacy tensor dequantizes to llama.cpp's values (reference rows, sum, sum of squares)`, () => {
        const refs = new Map(dequantReferences(suffix).map((r) => [r.name, r]));
        const checked = withFile(suffix, (file) => {
          const tensors = legacyTensors(file);
          for (const t of tensors) {
            const ref = refs.get(t.name);
            assert.ok(ref, `no reference for ${t.name}`);
            assert.equal(ref.type.toUpperCase(), t.type.name, `${t.name}: type`);
            const ours = dequantizeTensor(file, t);
            for (const row of Object.keys(ref.rows)) {
              const mismatch = rowMismatch(ref, row, ours);
              assert.equal(mismatch, undefined, mismatch);
            }
            let sum = 0;
            let sumsq = 0;
            for (const v of ours) {
              sum += v;
              sumsq += v * v;
            }
            assert.equal(sum, ref.sum, `${t.name}: sum of all values`);
            assert.equal(sumsq, ref.sumsq, `${t.name}: sum of squares`);
          }
          return tensors.length;
        });
        const expected = [...refs.values()].filter((r) => r.type.toUpperCase() in FILE_CODECS).length;
        assert.equal(checked, expected, 'legacy tensors checked vs. listed in the references');
        assert.ok(checked >= 43);
      });
    }

    for (const suffix of FILES_WITH_LEGACY) {
      it(`${suffix}: raw and dequantized FNV-1a-64 hashes equal llama.cpp's`, () => {
        const refs = new Map(dequantReferences(suffix).map((r) => [r.name, r]));
        withFile(suffix, (file) => {
          for (const t of legacyTensors(file)) {
            const ref = refs.get(t.name)!;
            assert.equal(fnv1a64(file.readTensorBytes(t)), ref.raw_fnv1a64, `${t.name}: raw bytes`);
            assert.equal(fnv1a64(float32Bytes(dequantizeTensor(file, t))), ref.f32_fnv1a64, `${t.name}: dequantized`);
          }
        });
      });
    }

    for (const suffix of PURE_FILES) {
      it(`quantizing the F32 file reproduces ${suffix} byte for byte`, () => {
        const checked = withFile('f32', (f32) =>
          withFile(suffix, (quantized) => {
            let matrices = 0;
            for (const t of quantized.tensors) {
              if (t.shape.length === 1) {
                assert.equal(t.type.name, 'F32', `${t.name}: norm vectors stay F32`);
                continue;
              }
              const codec = FILE_CODECS[t.type.name];
              assert.ok(codec, `${t.name}: unexpected type ${t.type.name}`);
              const source = asFloat32(f32.readTensorBytes(t.name));
              const ours = new Uint8Array(t.nBytes);
              codec.quantize(source, ours);
              assertSameBlocks(t.name, TYPE_SIZE[t.type.name], quantized.readTensorBytes(t), ours);
              matrices++;
            }
            return matrices;
          }),
        );
        assert.equal(checked, 44);
      });
    }

    it('blockFields give the values llama.cpp decodes, through each layout formula', () => {
      const formula: Record<string, (f: Record<string, number>, q: number) => number> = {
        Q4_0: ({ d }, q) => Math.fround((q - 8) * d),
        Q4_1: ({ d, m }, q) => Math.fround(Math.fround(q * d) + m),
        Q5_0: ({ d }, q) => Math.fround((q - 16) * d),
        Q5_1: ({ d, m }, q) => Math.fround(Math.fround(q * d) + m),
        Q8_0: ({ d }, q) => Math.fround(q * d),
      };
      for (const suffix of PURE_FILES) {
        const refs = new Map(dequantReferences(suffix).map((r) => [r.name, r]));
        withFile(suffix, (file) => {
          for (const t of legacyTensors(file)) {
            const codec = FILE_CODECS[t.type.name];
            const row0 = refs.get(t.name)!.rows['0'];
            const bytes = file.readRowBytes(t, 0, 1);
            for (let b = 0; b < row0.length / QK; b++) {
              const fields = codec.blockFields(bytes, b * TYPE_SIZE[t.type.name]);
              assert.deepEqual(Object.keys(fields), codec.fields.map((f) => f.name));
              const q = fields.q as number[];
              assert.equal(q.length, QK);
              for (let j = 0; j < QK; j++) {
                const value = formula[t.type.name](fields as Record<string, number>, q[j]);
                assert.ok(Object.is(value, Math.fround(row0[b * QK + j])), `${suffix} ${t.name} block ${b} value ${j}`);
              }
            }
          }
        });
      }
    });
  });

  describe('Q8_1 (activations only: no file to compare with)', () => {
    const blocks = 4096;
    const next = rng(81);
    const x = new Float32Array(blocks * QK);
    for (let b = 0; b < blocks; b++) {
      const scale = 10 ** (next() * 8 - 4);
      for (let j = 0; j < QK; j++) x[b * QK + j] = (next() * 2 - 1) * scale;
    }
    const bytes = new Uint8Array(blocks * TYPE_SIZE.Q8_1);
    Q8_1.quantize(x, bytes);

    it('dequantize(quantize(x)) is within half a step of x, plus the f16 rounding of the step', () => {
      const y = new Float32Array(x.length);
      Q8_1.dequantize(bytes, y);
      for (let b = 0; b < blocks; b++) {
        const { d } = Q8_1.blockFields(bytes, b * TYPE_SIZE.Q8_1) as { d: number };
        // Codes are rounded with the float32 scale, but the block stores it rounded to f16 (by at
        // most half an f16 ulp: 2^-11 relative, 2^-25 absolute for subnormal halves), which can move a
        // code-127 value by another 127 of those.
        const scaleError = Math.max(d * 2 ** -11, 2 ** -25);
        const bound = (0.5 * d + 127.5 * scaleError) * (1 + 2 ** -20);
        for (let j = 0; j < QK; j++) {
          const i = b * QK + j;
          assert.ok(Math.abs(y[i] - x[i]) <= bound, `block ${b} value ${j}: ${x[i]} -> ${y[i]}, step ${d}`);
        }
      }
    });

    it('s is d * sum(q), computed with the float32 scale and stored as f16', () => {
      for (let b = 0; b < blocks; b++) {
        const { d, s, q } = Q8_1.blockFields(bytes, b * TYPE_SIZE.Q8_1) as { d: number; s: number; q: number[] };
        let amax = 0;
        for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b * QK + j]));
        const floatScale = Math.fround(amax / 127);
        const sum = q.reduce((a, v) => a + v, 0);
        assert.equal(d, F16_TO_F32[f32ToF16(floatScale)], `block ${b}: d`);
        assert.equal(s, F16_TO_F32[f32ToF16(Math.fround(sum * floatScale))], `block ${b}: s`);
      }
    });

    it('holds the same scale and codes as Q8_0 (which matches llama.cpp), so dequantizes identically', () => {
      const q8_0 = new Uint8Array(blocks * TYPE_SIZE.Q8_0);
      Q8_0.quantize(x, q8_0);
      for (let b = 0; b < blocks; b++) {
        const a = q8_0.subarray(b * 34, b * 34 + 34);
        const c = bytes.subarray(b * 36, b * 36 + 36);
        assert.equal(hex(c.subarray(0, 2)) + hex(c.subarray(4)), hex(a), `block ${b}`);
      }
    });
  });

  describe('edge cases', () => {
    function roundTrip(codec: BlockCodec, name: string, block: number[]): { y: Float32Array; fields: Record<string, number | number[]> } {
      const bytes = new Uint8Array(TYPE_SIZE[name]);
      codec.quantize(Float32Array.from(block), bytes);
      const y = new Float32Array(QK);
      codec.dequantize(bytes, y);
      return { y, fields: codec.blockFields(bytes, 0) };
    }

    for (const [name, codec] of Object.entries(ALL_CODECS)) {
      it(`${name}: an all-zero block (also -0) has scale 0 and decodes to exact zeros, no NaN`, () => {
        for (const zero of [0, -0]) {
          const { y, fields } = roundTrip(codec, name, new Array(QK).fill(zero));
          assert.ok(fields.d === 0, `d = ${fields.d}`);
          for (const v of y) assert.ok(v === 0, `got ${v}`);
        }
      });

      it(`${name}: all-zero bytes decode to exact zeros`, () => {
        const y = new Float32Array(3 * QK).fill(NaN);
        codec.dequantize(new Uint8Array(3 * TYPE_SIZE[name]), y);
        for (const v of y) assert.ok(v === 0, `got ${v}`);
      });

      it(`${name}: one huge value gets the extreme code and the small ones the code of zero (or of the minimum)`, () => {
        const block = Array.from({ length: QK }, (_, j) => (j - 16) / 1000);
        block[5] = 1000;
        const { y, fields } = roundTrip(codec, name, block);
        const q = fields.q as number[];
        const d = fields.d as number;
        const [hugeCode, smallCode] = { Q4_0: [0, 8], Q5_0: [0, 16], Q4_1: [15, 0], Q5_1: [31, 0], Q8_0: [127, 0], Q8_1: [127, 0] }[name]!;
        assert.equal(q[5], hugeCode);
        // Only the f16 rounding of the scale separates the huge value from its decoding.
        assert.ok(Math.abs(y[5] - 1000) <= Math.abs(d) * 0.07, `huge value decodes to ${y[5]}`);
        const small = 'm' in fields ? (fields.m as number) : 0;
        for (let j = 0; j < QK; j++) {
          if (j === 5) continue;
          assert.equal(q[j], smallCode, `code of value ${j}`);
          assert.ok(y[j] === small, `value ${j} decodes to ${y[j]}`);
        }
      });
    }

    // Q4_0/Q5_0 put the value of largest magnitude, sign kept, at code 0 (d = max / -8 or -16);
    // its opposite would need code 16 or 32 and is clamped one step short. The first of two equal
    // magnitudes wins. Scales 0.375 and 0.1875 are exact in f16, so the results are exact.
    const signedMax: [string, BlockCodec, number, number][] = [
      ['Q4_0', Q4_0, 0.375, 7],
      ['Q5_0', Q5_0, 0.1875, 15],
    ];
    for (const [name, codec, step, topCode] of signedMax) {
      it(`${name}: a negative maximum decodes exactly and its opposite is clamped`, () => {
        for (const sign of [-1, 1]) {
          const block = Array.from({ length: QK }, (_, j) => (j % 5) / 10 - 0.2);
          block[0] = 3 * sign;
          block[1] = -3 * sign;
          const { y, fields } = roundTrip(codec, name, block);
          assert.equal(fields.d, -sign * step);
          assert.equal((fields.q as number[])[0], 0);
          assert.equal(y[0], 3 * sign);
          assert.equal(y[1], -sign * topCode * step);
        }
      });
    }

    for (const name of ['Q8_0', 'Q8_1']) {
      it(`${name}: a negative maximum gets code -127 and decodes symmetrically`, () => {
        const block = Array.from({ length: QK }, (_, j) => (j % 7) / 7 - 0.5);
        block[3] = -3;
        block[4] = 3;
        const { y, fields } = roundTrip(ALL_CODECS[name], name, block);
        const q = fields.q as number[];
        assert.equal(q[3], -127);
        assert.equal(q[4], 127);
        assert.equal(y[3], -y[4]);
      });
    }

    for (const [name, codec, top] of [['Q4_1', Q4_1, 15], ['Q5_1', Q5_1, 31]] as const) {
      it(`${name}: a block of negative values keeps its minimum in m and its maximum at the top code`, () => {
        const block = Array.from({ length: QK }, (_, j) => -1 - j / 8);
        const { y, fields } = roundTrip(codec, name, block);
        const q = fields.q as number[];
        assert.equal(fields.m, F16_TO_F32[f32ToF16(-1 - 31 / 8)]);
        assert.equal(q[31], 0);
        assert.equal(q[0], top);
        for (let j = 0; j < QK; j++) assert.ok(Math.abs(y[j] - block[j]) <= (fields.d as number) * 0.52, `value ${j}`);
      });
    }

    it('rejects buffers that are not whole blocks or a destination that is too small', () => {
      assert.throws(() => Q4_0.dequantize(new Uint8Array(17), new Float32Array(32)), RangeError);
      assert.throws(() => Q4_0.dequantize(new Uint8Array(36), new Float32Array(32)), RangeError);
      assert.throws(() => Q8_0.quantize(new Float32Array(31), new Uint8Array(34)), RangeError);
      assert.throws(() => Q8_0.quantize(new Float32Array(64), new Uint8Array(34)), RangeError);
    });
  });
});

function assertSameBlocks(tensor: string, typeSize: number, expected: Uint8Array, ours: Uint8Array): void {
  assert.equal(ours.length, expected.length, `${tensor}: byte length`);
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== ours[i]) {
      const block = Math.floor(i / typeSize);
      const start = block * typeSize;
      assert.fail(
        `${tensor}: block ${block} (values ${block * QK}..${block * QK + QK - 1}) differs first at byte ${i - start}: ` +
          `llama.cpp ${hex(expected.subarray(start, start + typeSize))}, ours ${hex(ours.subarray(start, start + typeSize))}`,
      );
    }
  }
}
