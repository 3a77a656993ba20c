// K-quant codecs (src/quant/kquants.ts) against llama.cpp's own output:
// - dequantization against references/dequant of manllama-6m (ggml's to_float of every tensor),
// - quantization against the bytes llama-quantize wrote from the F32 file (the pure files),
// - Q8_K (no file stores it) and edge cases no file covers, against the formats' error bounds.

import { strict as assert } from 'node:assert';
import { openGGUF } from '../src/gguf';
import type { BlockCodec } from '../src/quant/codec';
import { Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K } from '../src/quant/kquants';
import { typeByName } from '../src/quant/types';
import {
  type DequantReference,
  dequantReferences,
  fnv1a64,
  haveSharedModels,
  modelPath,
  modelSuffixes,
} from './helpers/references';

const QK_K = 256;
const fround = Math.fround;

/** A byte range of the block struct, as in ggml-common.h, to name the bytes of a mismatch. */
type ByteField = readonly [name: string, offset: number, size: number];

interface KType {
  readonly name: string;
  readonly codec: BlockCodec;
  readonly typeSize: number;
  readonly layout: readonly ByteField[];
  /** Values per sub-block scale. */
  readonly subBlock: number;
  /** Largest dequantization error on typical data, as a fraction of the block's max |x|. */
  readonly errorBound: number;
}

function kType(name: string, codec: BlockCodec, layout: ByteField[], subBlock: number, errorBound: number): KType {
  return { name, codec, typeSize: typeByName(name)!.typeSize, layout, subBlock, errorBound };
}

const K_TYPES: readonly KType[] = [
  kType('Q2_K', Q2_K, [['scales', 0, 16], ['qs', 16, 64], ['d', 80, 2], ['dmin', 82, 2]], 16, 0.4),
  kType('Q3_K', Q3_K, [['hmask', 0, 32], ['qs', 32, 64], ['scales', 96, 12], ['d', 108, 2]], 16, 0.25),
  kType('Q4_K', Q4_K, [['d', 0, 2], ['dmin', 2, 2], ['scales', 4, 12], ['qs', 16, 128]], 32, 0.1),
  kType('Q5_K', Q5_K, [['d', 0, 2], ['dmin', 2, 2], ['scales', 4, 12], ['qh', 16, 32], ['qs', 48, 128]], 32, 0.06),
  kType('Q6_K', Q6_K, [['ql', 0, 128], ['qh', 128, 64], ['scales', 192, 16], ['d', 208, 2]], 16, 0.025),
  kType('Q8_K', Q8_K, [['d', 0, 4], ['qs', 4, 256], ['bsums', 260, 32]], 16, 0.5 / 127 + 1e-6),
];

const kTypeByName = new Map(K_TYPES.map((t) => [t.name, t]));

/** Deterministic uniform [0, 1) numbers (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function roundTrip(type: KType, x: Float32Array): { bytes: Uint8Array; y: Float32Array } {
  const bytes = new Uint8Array((x.length / QK_K) * type.typeSize);
  type.codec.quantize(x, bytes);
  const y = new Float32Array(x.length);
  type.codec.dequantize(bytes, y);
  return { bytes, y };
}

function hex(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0');
}

/** Where and how block `block` of two encodings of a tensor differ: bytes by field, then decoded fields. */
function describeBlockMismatch(type: KType, ours: Uint8Array, theirs: Uint8Array, block: number): string {
  const base = block * type.typeSize;
  const bytes: string[] = [];
  for (const [name, offset, size] of type.layout) {
    for (let i = 0; i < size; i++) {
      const a = ours[base + offset + i];
      const b = theirs[base + offset + i];
      if (a !== b) bytes.push(`${name}[${i}] (block byte ${offset + i}): ours ${hex(a)}, llama.cpp ${hex(b)}`);
    }
  }
  const oursFields = type.codec.blockFields(ours, base);
  const theirFields = type.codec.blockFields(theirs, base);
  const decoded: string[] = [];
  for (const { name } of type.codec.fields) {
    const a = [oursFields[name]].flat();
    const b = [theirFields[name]].flat();
    const i = a.findIndex((v, k) => !Object.is(v, b[k]));
    if (i >= 0) decoded.push(`${name}${a.length > 1 ? `[${i}]` : ''}: ours ${a[i]}, llama.cpp ${b[i]}`);
  }
  const shown = bytes.slice(0, 8).join('; ') + (bytes.length > 8 ? `; ... (${bytes.length} bytes differ)` : '');
  return `bytes: ${shown}\n  decoded: ${decoded.join('; ')}`;
}

/** First value of the reference rows (exact float32) that `values` does not reproduce. */
function firstRowMismatch(ref: DequantReference, values: Float32Array): string | undefined {
  const rowLength = ref.ne[0];
  for (const [row, expected] of Object.entries(ref.rows)) {
    for (let col = 0; col < expected.length; col++) {
      const index = Number(row) * rowLength + col;
      if (!Object.is(values[index], fround(expected[col]))) {
        return `row ${row} col ${col} (block ${Math.floor(index / QK_K)}, element ${index % QK_K}): ours ${values[index]}, llama.cpp ${expected[col]}`;
      }
    }
  }
  return undefined;
}

/** Dequantize every referenced tensor of a file with our codec and hand it to `check`. */
function forEachDequantized(
  suffix: string,
  refs: readonly DequantReference[],
  check: (ref: DequantReference, type: KType, values: Float32Array, raw: Uint8Array) => void,
): void {
  const file = openGGUF(modelPath(suffix));
  try {
    for (const ref of refs) {
      const type = kTypeByName.get(ref.type.toUpperCase())!;
      const info = file.tensor(ref.name);
      assert.equal(info.type.name, type.name, `${suffix} ${ref.name}: type in the file`);
      const raw = file.readTensorBytes(info);
      const values = new Float32Array(info.nElements);
      type.codec.dequantize(raw, values);
      check(ref, type, values, raw);
    }
  } finally {
    file.close();
  }
}

describe('K-quants', function () {
  it('are the codecs of the type table', () => {
    for (const type of K_TYPES) assert.equal(typeByName(type.name)!.codec, type.codec, type.name);
  });

  describe('dequantization matches llama.cpp (manllama-6m references/dequant)', function () {
    const files = haveSharedModels()
      ? modelSuffixes()
          .map((suffix) => ({ suffix, refs: dequantReferences(suffix).filter((r) => kTypeByName.has(r.type.toUpperCase())) }))
          .filter((f) => f.refs.length > 0)
      : [];
    before(function () {
      if (!haveSharedModels()) this.skip();
    });

    for (const { suffix, refs } of files) {
      const counts = new Map<string, number>();
      for (const r of refs) counts.set(r.type.toUpperCase(), (counts.get(r.type.toUpperCase()) ?? 0) + 1);
      const summary = [...counts].map(([name, n]) => `${n} ${name}`).join(', ');

      it(`${suffix} (${summary}): reference rows bit for bit, sum and sum of squares of every tensor`, () => {
        const problems: string[] = [];
        forEachDequantized(suffix, refs, (ref, type, values) => {
          const rowProblem = firstRowMismatch(ref, values);
          if (rowProblem) problems.push(`${ref.name} (${type.name}): ${rowProblem}`);
          // Accumulated in float64 in element order, as the references were.
          let sum = 0;
          let sumsq = 0;
          for (const v of values) {
            sum += v;
            sumsq += v * v;
          }
          if (sum !== ref.sum || sumsq !== ref.sumsq) {
            problems.push(`${ref.name} (${type.name}): sum ${sum}, sum of squares ${sumsq}; llama.cpp ${ref.sum}, ${ref.sumsq}`);
          }
        });
        assert.ok(problems.length === 0, `${problems.length} problems in ${refs.length} tensors of ${suffix}:\n${problems.slice(0, 6).join('\n')}`);
      });
    }

    for (const { suffix, refs } of files) {
      it(`${suffix}: raw and dequantized FNV-1a-64 of every K-quant tensor`, () => {
        const problems: string[] = [];
        forEachDequantized(suffix, refs, (ref, type, values, raw) => {
          const rawHash = fnv1a64(raw);
          if (rawHash !== ref.raw_fnv1a64) problems.push(`${ref.name}: raw bytes hash ${rawHash}, reference ${ref.raw_fnv1a64}`);
          const hash = fnv1a64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
          if (hash !== ref.f32_fnv1a64) problems.push(`${ref.name} (${type.name}): f32 hash ${hash}, reference ${ref.f32_fnv1a64}`);
        });
        assert.ok(problems.length === 0, `${problems.length} problems in ${refs.length} tensors of ${suffix}:\n${problems.slice(0, 6).join('\n')}`);
      });
    }
  });

  describe('quantization reproduces llama-quantize bit for bit (F32 file -> pure files)', function () {
    before(function () {
      if (!haveSharedModels()) this.skip();
    });

    const pureFiles: [suffix: string, type: string][] = [
      ['q2_k-pure', 'Q2_K'],
      ['q3_k-pure', 'Q3_K'],
      ['q4_k-pure', 'Q4_K'],
      ['q5_k-pure', 'Q5_K'],
      ['q6_k', 'Q6_K'],
    ];
    for (const [suffix, typeName] of pureFiles) {
      it(`${suffix}: every matrix`, () => {
        const type = kTypeByName.get(typeName)!;
        const source = openGGUF(modelPath('f32'));
        const target = openGGUF(modelPath(suffix));
        try {
          let matrices = 0;
          for (const t of source.tensors) {
            if (t.shape.length < 2) {
              assert.equal(target.tensor(t.name).type.name, 'F32', `${t.name} stays F32`);
              continue;
            }
            assert.equal(target.tensor(t.name).type.name, typeName, `${t.name}: type in ${suffix}`);
            const expected = target.readTensorBytes(t.name);
            const x = new Float32Array(source.readTensorBytes(t).slice().buffer);
            // Pre-filled with garbage: every byte of every block must be written.
            const ours = new Uint8Array(expected.length).fill(0xa5);
            type.codec.quantize(x, ours);
            const blocks = expected.length / type.typeSize;
            const differing: number[] = [];
            for (let b = 0; b < blocks; b++) {
              for (let i = b * type.typeSize; i < (b + 1) * type.typeSize; i++) {
                if (ours[i] !== expected[i]) {
                  differing.push(b);
                  break;
                }
              }
            }
            if (differing.length > 0) {
              const b = differing[0];
              assert.fail(
                `${t.name}: block ${b} of ${blocks} differs (${differing.length} blocks differ; its values are ` +
                  `elements ${b * QK_K}..${b * QK_K + QK_K - 1})\n  ${describeBlockMismatch(type, ours, expected, b)}`,
              );
            }
            matrices++;
          }
          assert.equal(matrices, 44, 'matrices checked');
        } finally {
          source.close();
          target.close();
        }
      });
    }
  });

  describe('fields', function () {
    before(function () {
      if (!haveSharedModels()) this.skip();
    });

    // Real blocks from the files (Q8_K: quantized random data); the fields must rebuild every value
    // with the dequantization formula of the layout comments, and stay in their ranges.
    const blocksOf: Record<string, () => Uint8Array> = {
      Q2_K: () => tensorBytes('q2_k-pure', 'blk.0.ffn_down.weight'),
      Q3_K: () => tensorBytes('q3_k-pure', 'blk.0.ffn_down.weight'),
      Q4_K: () => tensorBytes('q4_k-pure', 'blk.0.ffn_down.weight'),
      Q5_K: () => tensorBytes('q5_k-pure', 'blk.0.ffn_down.weight'),
      Q6_K: () => tensorBytes('q6_k', 'blk.0.ffn_down.weight'),
      Q8_K: () => roundTrip(kTypeByName.get('Q8_K')!, randomValues(8 * QK_K, 7, 3)).bytes,
    };
    const ranges: Record<string, Record<string, [number, number]>> = {
      Q2_K: { scales: [0, 15], mins: [0, 15], q: [0, 3] },
      Q3_K: { scales: [-32, 31], q: [-4, 3] },
      Q4_K: { scales: [0, 63], mins: [0, 63], q: [0, 15] },
      Q5_K: { scales: [0, 63], mins: [0, 63], q: [0, 31] },
      Q6_K: { scales: [-128, 127], q: [-32, 31] },
      Q8_K: { q: [-128, 127], bsums: [-32768, 32767] },
    };

    for (const type of K_TYPES) {
      it(`${type.name}: blockFields rebuild the dequantized values`, () => {
        const bytes = blocksOf[type.name]();
        const values = new Float32Array((bytes.length / type.typeSize) * QK_K);
        type.codec.dequantize(bytes, values);
        const blocks = bytes.length / type.typeSize;
        for (const b of [0, 1, 2, Math.floor(blocks / 2), blocks - 1]) {
          const f = type.codec.blockFields(bytes, b * type.typeSize);
          assert.deepEqual(Object.keys(f).sort(), type.codec.fields.map((s) => s.name).sort());
          for (const spec of type.codec.fields) {
            const v = f[spec.name];
            assert.equal(Array.isArray(v) ? v.length : 1, spec.length, `${type.name} ${spec.name} length`);
            const range = ranges[type.name][spec.name];
            if (range) for (const n of [v].flat()) assert.ok(Number.isInteger(n) && n >= range[0] && n <= range[1], `${spec.name} ${n}`);
          }
          for (let e = 0; e < QK_K; e++) {
            const rebuilt = fromFields(type.name, f, e, type.subBlock);
            assert.ok(Object.is(rebuilt, values[b * QK_K + e]), `${type.name} block ${b} element ${e}: fields give ${rebuilt}, dequantize ${values[b * QK_K + e]}`);
          }
          if (type.name === 'Q8_K') {
            const q = f.q as number[];
            const bsums = f.bsums as number[];
            for (let j = 0; j < 16; j++) {
              assert.equal(bsums[j], q.slice(16 * j, 16 * j + 16).reduce((s, n) => s + n, 0), `bsums[${j}]`);
            }
          }
        }
      });
    }
  });

  describe('Q8_K round trip (no file stores Q8_K)', () => {
    it('stays within half a quantization step and fills bsums', () => {
      const type = kTypeByName.get('Q8_K')!;
      const x = randomValues(16 * QK_K, 42, 100);
      const { bytes, y } = roundTrip(type, x);
      for (let b = 0; b < 16; b++) {
        const f = type.codec.blockFields(bytes, b * type.typeSize);
        const d = f.d as number;
        const q = f.q as number[];
        const block = x.subarray(b * QK_K, (b + 1) * QK_K);
        const amax = block.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(Math.abs(Math.abs(d) * 127 - amax) <= amax * 1e-6, `block ${b}: |d| * 127 = ${Math.abs(d) * 127}, max |x| ${amax}`);
        assert.equal(Math.max(...q.map(Math.abs)), 127, `block ${b}: the largest value gets code ±127`);
        for (let i = 0; i < QK_K; i++) {
          const err = Math.abs(block[i] - y[b * QK_K + i]);
          assert.ok(err <= 0.5 * Math.abs(d) * (1 + 1e-6), `block ${b} element ${i}: |error| ${err} > |d|/2 = ${Math.abs(d) / 2}`);
        }
        const bsums = f.bsums as number[];
        for (let j = 0; j < 16; j++) assert.equal(bsums[j], q.slice(16 * j, 16 * j + 16).reduce((s, n) => s + n, 0), `block ${b} bsums[${j}]`);
      }
    });
  });

  describe('edge cases', () => {
    for (const type of K_TYPES) {
      describe(type.name, () => {
        it('an all-zero block decodes to zeros (no NaN)', () => {
          const { bytes, y } = roundTrip(type, new Float32Array(QK_K));
          assert.ok(y.every((v) => v === 0), `decoded ${[...y.slice(0, 4)]}...`);
          assert.equal(type.codec.blockFields(bytes, 0).d, 0);
        });

        it('a block with one huge outlier keeps the outlier and the other sub-blocks', () => {
          const x = randomValues(QK_K, 3, 0.01);
          const at = 77;
          x[at] = -1e4;
          const { y } = roundTrip(type, x);
          assert.ok(y.every(Number.isFinite), 'all values finite');
          assert.ok(Math.abs(y[at] - x[at]) <= 1e-3 * Math.abs(x[at]), `outlier ${x[at]} decoded as ${y[at]}`);
          // Other sub-blocks' scales round to (almost) nothing next to the outlier's: error at most their own size.
          const group = Math.floor(at / 32);
          for (let i = 0; i < QK_K; i++) {
            if (Math.floor(i / 32) === group) continue;
            assert.ok(Math.abs(y[i] - x[i]) <= 0.01, `element ${i}: ${x[i]} decoded as ${y[i]}`);
          }
        });

        it('an all-negative block stays within the error bound', () => {
          const x = randomValues(QK_K, 11, 0.5).map((v) => v - 1.5); // values in [-2, -1]
          const { y } = roundTrip(type, x);
          for (let i = 0; i < QK_K; i++) {
            assert.ok(y[i] < 0, `element ${i}: ${x[i]} decoded as ${y[i]}`);
            assert.ok(Math.abs(y[i] - x[i]) <= type.errorBound * 2, `element ${i}: ${x[i]} decoded as ${y[i]}`);
          }
        });

        it('typical data stays within the error bound', () => {
          const x = randomValues(4 * QK_K, 5, 1);
          const { y } = roundTrip(type, x);
          for (let i = 0; i < x.length; i++) {
            assert.ok(Math.abs(y[i] - x[i]) <= type.errorBound, `element ${i}: ${x[i]} decoded as ${y[i]}`);
          }
        });

        it('rejects partial blocks', () => {
          assert.throws(() => type.codec.quantize(new Float32Array(QK_K + 1), new Uint8Array(2 * type.typeSize)), RangeError);
          assert.throws(() => type.codec.dequantize(new Uint8Array(type.typeSize + 1), new Float32Array(2 * QK_K)), RangeError);
        });
      });
    }
  });
});

/** n uniform values in [-amplitude, amplitude), as float32. */
function randomValues(n: number, seed: number, amplitude: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: n }, () => (2 * next() - 1) * amplitude);
}

function tensorBytes(suffix: string, name: string): Uint8Array {
  const file = openGGUF(modelPath(suffix));
  try {
    return file.readTensorBytes(name);
  } finally {
    file.close();
  }
}

/** Element e of a block from its fields, by the dequantization formula of its layout comment. */
function fromFields(typeName: string, f: Record<string, number | number[]>, e: number, subBlock: number): number {
  const j = Math.floor(e / subBlock);
  const d = f.d as number;
  const q = (f.q as number[])[e];
  if (typeName === 'Q8_K') return fround(d * q);
  const scale = fround(d * (f.scales as number[])[j]);
  if (f.mins === undefined) return fround(scale * q);
  return fround(fround(scale * q) - fround((f.dmin as number) * (f.mins as number[])[j]));
}
