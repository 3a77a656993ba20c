import { strict as assert } from 'node:assert';
import { encodeGGUF, meta, openGGUF, type GGUFFile } from '../src/gguf';
import { quantize } from '../src/quant';
import { blockReport, tokenScaleCorrelation } from '../src/inspect/block-report';
import { dequantReferences, modelPath } from './helpers/references';
import { runCli } from './helpers/cli';
import { rng } from './helpers/tiny-gguf';

/** Largest |x| over each run of `size` values. */
function blockAbsMax(values: Float32Array, size: number): Float64Array {
  const out = new Float64Array(values.length / size);
  for (let i = 0; i < values.length; i++) out[Math.floor(i / size)] = Math.max(out[Math.floor(i / size)], Math.abs(values[i]));
  return out;
}

/** f16 keeps 11 significant bits: rounding moves a normal value by at most 2^-11 of it, a subnormal by 2^-25. */
const f16Close = (stored: number, exact: number) => Math.abs(stored - exact) <= Math.abs(exact) * 2 ** -11 + 2 ** -25;

/** A GGUF file in memory with one quantized matrix (and optionally a vocabulary). */
function matrixFile(type: string, rows: Float32Array[], tokens?: { pieces: string[]; types: number[] }): GGUFFile {
  const values = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => values.set(r, i * r.length));
  return openGGUF(
    encodeGGUF({
      metadata: tokens ? [['tokenizer.ggml.tokens', meta.strings(tokens.pieces)], ['tokenizer.ggml.token_type', meta.i32s(tokens.types)]] : [],
      tensors: [{ name: 'token_embd.weight', type, shape: [rows[0].length, rows.length], data: quantize(type, values) }],
    }),
  );
}

describe('blockReport: block scales across a tensor and per row', () => {
  it("Q8_0: every block's d is max|x|/127 of the F32 file's same block, in f16 (all 44 matrices)", () => {
    const q8 = openGGUF(modelPath('q8_0'));
    const f32 = openGGUF(modelPath('f32'));
    try {
      let checked = 0;
      for (const t of q8.tensors.filter((x) => x.type.name === 'Q8_0')) {
        const r = blockReport(q8, t);
        const amax = blockAbsMax(f32.readRows(t.name), 32);
        assert.equal(r.d.length, amax.length);
        for (let b = 0; b < amax.length; b++) assert.ok(f16Close(r.d[b], amax[b] / 127), `${t.name} block ${b}: d ${r.d[b]}, max|x|/127 ${amax[b] / 127}`);
        checked += amax.length;
      }
      assert.equal(checked, (5_770_496 - 13 * 256) / 32);
    } finally {
      q8.close();
      f32.close();
    }
  });

  it('Q4_0 and Q4_1 (pure files): |d| = max|x|/8, and d = (max−min)/15 with m = min, from the F32 file', () => {
    const f32 = openGGUF(modelPath('f32'));
    try {
      const x = f32.readRows('blk.2.ffn_up.weight');
      const q40 = openGGUF(modelPath('q4_0-pure'));
      const r0 = blockReport(q40, 'blk.2.ffn_up.weight');
      blockAbsMax(x, 32).forEach((amax, b) => assert.ok(f16Close(Math.abs(r0.d[b]), amax / 8), `Q4_0 block ${b}`));
      q40.close();
      const q41 = openGGUF(modelPath('q4_1-pure'));
      const r1 = blockReport(q41, 'blk.2.ffn_up.weight');
      assert.equal(r1.min?.field, 'm');
      for (let b = 0; b < r1.d.length; b++) {
        const block = x.subarray(32 * b, 32 * b + 32);
        const lo = Math.min(...block), hi = Math.max(...block);
        assert.ok(f16Close(r1.d[b], (hi - lo) / 15) && f16Close(r1.min!.values[b], lo), `Q4_1 block ${b}`);
      }
      q41.close();
    } finally {
      f32.close();
    }
  });

  for (const suffix of ['q2_k-pure', 'q3_k-pure', 'q4_k-pure', 'q5_k-pure', 'q6_k']) {
    it(`${suffix}: effective sub-block scale × code + offset rebuilds llama.cpp's dequantized rows bit for bit`, () => {
      const file = openGGUF(modelPath(suffix));
      try {
        const ref = dequantReferences(suffix).find((r) => r.name === 'token_embd.weight')!;
        const t = file.tensor('token_embd.weight');
        const r = blockReport(file, t);
        const codec = t.type.codec!;
        const perSub = 256 / r.subBlocksPerBlock;
        for (const [row, expected] of Object.entries(ref.rows)) {
          const bytes = file.readRowBytes(t, Number(row), Number(row) + 1);
          const rebuilt = new Float32Array(256);
          const b = Number(row) * r.blocksPerRow; // 256 values per row: one super-block
          const q = codec.blockFields(bytes, 0).q as number[];
          for (let i = 0; i < 256; i++) {
            const sub = b * r.subBlocksPerBlock + Math.floor(i / perSub);
            const scaled = Math.fround(r.effectiveScales[sub] * q[i]);
            rebuilt[i] = r.effectiveOffsets ? Math.fround(scaled + r.effectiveOffsets[sub]) : scaled; // keeps C's −0
          }
          assert.deepEqual(rebuilt, Float32Array.from(expected), `row ${row}`);
        }
      } finally {
        file.close();
      }
    });
  }

  it('a row scaled down 10,000x is the most extreme row, in Q8_0 and in Q4_K', () => {
    const next = rng(7);
    const rows = Array.from({ length: 64 }, (_, r) => Float32Array.from({ length: 256 }, () => (next() * 2 - 1) * (r === 37 ? 1e-4 : 1)));
    for (const type of ['Q8_0', 'Q4_K']) {
      const r = blockReport(matrixFile(type, rows), 'token_embd.weight');
      assert.equal(r.smallestRows[0].row, 37, type);
      assert.ok(r.smallestRows[0].ratioToTypical < 2e-4 && r.smallestRows[0].ratioToTypical > 5e-5, `${type}: ${r.smallestRows[0].ratioToTypical}`);
      assert.ok(r.smallestRows[1].ratioToTypical > 0.5, type);
      assert.match(r.observations[0], /^1 of 64 rows have a median .* more than 10x below the typical row's .*: row 37 /);
    }
    // In Q8_0 that row's d ≈ 1e-4/127 lies in f16's subnormal range, like seed 000's 1.19e-7.
    const q8 = blockReport(matrixFile('Q8_0', rows), 'token_embd.weight');
    assert.equal(q8.subnormalScales, 8);
    assert.ok(q8.observations.some((o) => /^8 of 512 block scales d are below 2\^-14/.test(o)), q8.observations.join('\n'));
  });

  it('names the token of each extreme row of token_embd, and refuses types without scales', () => {
    const file = openGGUF(modelPath('q8_0'));
    try {
      const r = blockReport(file, 'token_embd.weight');
      const tokens = file.get('tokenizer.ggml.tokens') as string[];
      for (const s of [...r.smallestRows, ...r.largestRows]) assert.equal(s.token, tokens[s.row]);
      assert.throws(() => blockReport(file, 'output_norm.weight'), /'output_norm.weight' is F32, which has no block scales; blockReport reads Q4_0/);
    } finally {
      file.close();
    }
  });
});

describe('tokenScaleCorrelation: block scales of special tokens against normal pieces', () => {
  it('on hand-made rows with exact scales: groups by token type, the point-biserial correlation, the ratio', () => {
    // Q8_0 stores d = max|x|/127; rows whose max is 127·2^-k give d = 2^-k exactly.
    const types = [2, 3, 3, 6, 6, 1, 1, 1]; // UNKNOWN, CONTROL x2, BYTE x2, NORMAL x3
    const d = [2 ** -8, 2 ** -8, 2 ** -9, 2 ** -8, 2 ** -8, 2 ** -7, 2 ** -7, 2 ** -6];
    const rows = d.map((scale) => Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? -1 : 1) * 127 * scale * ((i % 32) + 1) / 32));
    const pieces = ['<unk>', '<s>', '</s>', '<0x00>', '<0x01>', 'a', 'b', 'c'];
    const c = tokenScaleCorrelation(matrixFile('Q8_0', rows, { pieces, types }));
    assert.deepEqual(
      c.byTokenType.map((g) => [g.typeName, g.tokens, g.meanRowScale]),
      [
        ['NORMAL', 3, (2 ** -7 + 2 ** -7 + 2 ** -6) / 3],
        ['UNKNOWN', 1, 2 ** -8],
        ['CONTROL', 2, (2 ** -8 + 2 ** -9) / 2],
        ['BYTE', 2, 2 ** -8],
      ],
    );
    // Point-biserial: r = (M1 − M0) / s · sqrt(p·q), s the population standard deviation of all scales.
    const special = d.filter((_, i) => types[i] !== 1), normal = d.filter((_, i) => types[i] === 1);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const all = mean(d);
    const s = Math.sqrt(mean(d.map((x) => (x - all) ** 2)));
    const expected = ((mean(special) - mean(normal)) / s) * Math.sqrt((special.length / d.length) * (normal.length / d.length));
    assert.ok(Math.abs(c.correlation - expected) < 1e-12, `${c.correlation} vs ${expected}`);
    assert.ok(Math.abs(c.specialToNormalRatio - mean(special) / mean(normal)) < 1e-12);
  });

  it('CLI: scales FILE TENSOR shows extreme rows with their tokens and the per-token-type scales', () => {
    const r = runCli('scales', modelPath('q8_0'), 'token_embd.weight');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /rows with the smallest scales:\nrow\s+token/);
    assert.match(r.stdout, /^BYTE\s+256\s/m);
    const json = JSON.parse(runCli('scales', modelPath('q4_k_m'), 'blk.0.ffn_down.weight', '--json').stdout);
    assert.equal(json.perRow.median.length, 256);
    assert.equal(json.subBlocksPerBlock, 8);
    assert.equal(runCli('scales', modelPath('q8_0'), 'output_norm.weight').status, 1);
  });
});
