// IQ4_NL and IQ4_XS. manllama-6m has no IQ4 file and references/dequant no IQ4 tensor, so there is
// no llama.cpp output to compare with here: these tests check what follows from the format itself
// (exact cases derivable by hand, the layout, error bounds, degenerate blocks).
import { strict as assert } from 'node:assert';
import type { BlockCodec } from '../src/quant/codec';
import { IQ4_NL, IQ4_XS } from '../src/quant/iquants';
import { typeByName } from '../src/quant/types';
import { rng } from './helpers/tiny-gguf';

/** ggml-common.h kvalues_iq4nl, written out again so a typo in the codec's copy shows. */
const LEVELS = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

interface Format {
  name: 'IQ4_NL' | 'IQ4_XS';
  codec: BlockCodec;
  blockSize: number;
  typeSize: number;
}

const FORMATS: Format[] = [
  { name: 'IQ4_NL', codec: IQ4_NL, blockSize: 32, typeSize: 18 },
  { name: 'IQ4_XS', codec: IQ4_XS, blockSize: 256, typeSize: 136 },
];

function roundTrip(format: Format, x: Float32Array): { bytes: Uint8Array; y: Float32Array } {
  const bytes = new Uint8Array((x.length / format.blockSize) * format.typeSize);
  format.codec.quantize(x, bytes);
  const y = new Float32Array(x.length);
  format.codec.dequantize(bytes, y);
  return { bytes, y };
}

/** Value j of a block from its fields, by the layout comment's formula. */
function valueFromFields(format: Format, fields: Record<string, number | number[]>, j: number): number {
  const d = fields.d as number;
  const level = LEVELS[(fields.q as number[])[j]];
  if (format.name === 'IQ4_NL') return Math.fround(d * level);
  const scale = (fields.scales as number[])[j >> 5];
  return Math.fround(Math.fround(d * (scale - 32)) * level);
}

function gaussian(n: number, seed: number): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));
}

describe('4-bit non-linear i-quants (IQ4_NL, IQ4_XS)', () => {
  it('are wired into the type table with their block sizes', () => {
    for (const f of FORMATS) {
      const row = typeByName(f.name);
      assert.equal(row?.codec, f.codec);
      assert.equal(row?.blockSize, f.blockSize);
      assert.equal(row?.typeSize, f.typeSize);
    }
  });

  for (const format of FORMATS) {
    const { name, codec, blockSize, typeSize } = format;

    describe(name, () => {
      it('a block made of the table levels times 0.5 decodes exactly, each value to its own level', () => {
        // Scale 0.5 makes every level exactly representable and the least-squares fit exact.
        const x = Float32Array.from({ length: 2 * blockSize }, (_, j) => LEVELS[j % 16] * 0.5);
        const { bytes, y } = roundTrip(format, x);
        assert.deepEqual(Array.from(y), Array.from(x));
        const fields = codec.blockFields(bytes, 0);
        assert.deepEqual(fields.q, Array.from({ length: blockSize }, (_, j) => j % 16));
        if (name === 'IQ4_NL') assert.equal(fields.d, 0.5);
        // IQ4_XS: d = -(largest sub-block scale) / 32 and every sub-block scale code is 0 (multiplier -32).
        else assert.deepEqual([fields.d, fields.scales], [-0.5 / 32, new Array(8).fill(0)]);
      });

      it('blockFields decode to the dequantized values through the layout formula', () => {
        const { bytes, y } = roundTrip(format, gaussian(8 * blockSize, 11));
        for (let b = 0; b < 8; b++) {
          const fields = codec.blockFields(bytes, b * typeSize);
          assert.deepEqual(Object.keys(fields), codec.fields.map((f) => f.name));
          for (const spec of codec.fields) {
            const value = fields[spec.name];
            assert.equal(Array.isArray(value) ? value.length : 1, spec.length, spec.name);
          }
          for (let j = 0; j < blockSize; j++) {
            assert.ok(Object.is(valueFromFields(format, fields, j), y[b * blockSize + j]), `block ${b} value ${j}`);
          }
        }
      });

      it('keeps Gaussian weights within 4-bit accuracy (relative RMS < 0.1, each value within 15% of its 32-block max)', () => {
        const x = gaussian(512 * blockSize, 7);
        const { y } = roundTrip(format, x);
        let err2 = 0;
        let sig2 = 0;
        for (let b = 0; b < x.length / 32; b++) {
          const amax = Math.max(...Array.from(x.subarray(32 * b, 32 * b + 32), Math.abs));
          for (let i = 32 * b; i < 32 * b + 32; i++) {
            err2 += (x[i] - y[i]) ** 2;
            sig2 += x[i] ** 2;
            assert.ok(Math.abs(x[i] - y[i]) <= 0.15 * amax, `value ${i}: ${x[i]} -> ${y[i]}`);
          }
        }
        assert.ok(Math.sqrt(err2 / sig2) < 0.1, `relative RMS error ${Math.sqrt(err2 / sig2)}`);
      });

      it('an all-zero block (also -0, or values below 1e-15) has scale 0 and decodes to exact zeros, no NaN', () => {
        for (const fill of [0, -0, 1e-16, -3e-20]) {
          const { bytes, y } = roundTrip(format, new Float32Array(blockSize).fill(fill));
          assert.ok(codec.blockFields(bytes, 0).d === 0);
          for (const v of y) assert.ok(v === 0, `got ${v}`);
        }
      });

      it('all-zero bytes decode to exact zeros', () => {
        const y = new Float32Array(2 * blockSize).fill(NaN);
        codec.dequantize(new Uint8Array(2 * typeSize), y);
        for (const v of y) assert.ok(v === 0, `got ${v}`);
      });

      it('one huge value is kept within 1% and the rest decode near zero', () => {
        const x = Float32Array.from({ length: blockSize }, (_, j) => (j % 7) / 1000 - 0.003);
        x[9] = -1000;
        const { y } = roundTrip(format, x);
        assert.ok(Math.abs(y[9] + 1000) <= 10, `huge value decodes to ${y[9]}`);
        // With levels this coarse around a huge scale, small values land on the level nearest zero.
        for (let j = 0; j < 32; j++) if (j !== 9) assert.ok(Math.abs(y[j]) <= 10, `value ${j}: ${y[j]}`);
      });

      it('rejects buffers that are not whole blocks', () => {
        assert.throws(() => codec.dequantize(new Uint8Array(typeSize + 1), new Float32Array(2 * blockSize)), RangeError);
        assert.throws(() => codec.quantize(new Float32Array(blockSize - 1), new Uint8Array(typeSize)), RangeError);
        assert.throws(() => codec.quantize(new Float32Array(2 * blockSize), new Uint8Array(typeSize)), RangeError);
      });
    });
  }

  it('IQ4_XS: a zero sub-block decodes to zeros while the others keep their accuracy', () => {
    const x = gaussian(256, 3);
    x.fill(0, 64, 96);
    const { bytes, y } = roundTrip(FORMATS[1], x);
    for (let j = 64; j < 96; j++) assert.ok(y[j] === 0, `value ${j}: ${y[j]}`);
    // Its scale code is 32 (multiplier 0) and its codes all pick the level nearest zero (1, index 8).
    const fields = IQ4_XS.blockFields(bytes, 0);
    assert.equal((fields.scales as number[])[2], 32);
    assert.deepEqual((fields.q as number[]).slice(64, 96), new Array(32).fill(8));
    for (let b = 0; b < 8; b++) {
      if (b === 2) continue;
      const amax = Math.max(...Array.from(x.subarray(32 * b, 32 * b + 32), Math.abs));
      for (let j = 32 * b; j < 32 * b + 32; j++) assert.ok(Math.abs(y[j] - x[j]) <= 0.15 * amax, `value ${j}`);
    }
  });

  it("IQ4_NL: a zero block repeats the previous block's codes, as ggml's scratch array does (values still 0)", () => {
    const x = new Float32Array(64);
    x.set(gaussian(32, 5));
    const { bytes, y } = roundTrip(FORMATS[0], x);
    assert.deepEqual(IQ4_NL.blockFields(bytes, 18).q, IQ4_NL.blockFields(bytes, 0).q);
    assert.equal(IQ4_NL.blockFields(bytes, 18).d, 0);
    for (let j = 32; j < 64; j++) assert.ok(y[j] === 0);
  });
});
