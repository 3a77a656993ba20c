import { strict as assert } from 'node:assert';
import { encodeGGUF, openGGUF } from '../src/gguf';
import { quantError } from '../src/inspect/quant-error';
import { modelPath } from './helpers/references';
import { runCli } from './helpers/cli';

describe('quantError: what quantizing a tensor to each type does to it', () => {
  const file = openGGUF(modelPath('f32'));
  after(() => file.close());
  const name = 'blk.0.attn_q.weight';
  const original = file.readRows(name);
  const report = quantError(file, name, { types: ['F16', 'Q8_0', 'Q4_0'] });
  const byType = (t: string) => report.byType.find((q) => q.type === t)!;

  it('Q8_0: every value within d/2 of the original, d = max|x|/127 of its block (plus the f16 rounding of d)', () => {
    // q = round(x/d) is at most d/2 off; the stored f16 d' differs from d by at most 2^-11·d, and |q| ≤ 127.
    const q8 = byType('Q8_0');
    assert.equal(q8.perBlock.maxAbsError.length, original.length / 32);
    for (let b = 0; b < original.length / 32; b++) {
      let amax = 0;
      for (let i = 32 * b; i < 32 * b + 32; i++) amax = Math.max(amax, Math.abs(original[i]));
      const d = amax / 127;
      const bound = (d / 2) * (1 + 2 ** -20) + 127 * d * 2 ** -11;
      assert.ok(q8.perBlock.maxAbsError[b] <= bound, `block ${b}: ${q8.perBlock.maxAbsError[b]} > ${bound}`);
      assert.ok(q8.perBlock.rmsError[b] <= q8.perBlock.maxAbsError[b]);
    }
  });

  it('F16: every value within 2^-11 of itself (11 significant bits), or 2^-25 below 2^-14 (subnormals)', () => {
    const f16 = byType('F16');
    for (let b = 0; b < original.length; b++) assert.ok(f16.perBlock.maxAbsError[b] <= Math.abs(original[b]) * 2 ** -11 + 2 ** -25, `value ${b}`);
  });

  it('Q4_0 errs more than Q8_0 on the same data: overall and in every row', () => {
    const q4 = byType('Q4_0'), q8 = byType('Q8_0');
    assert.ok(q4.relativeRmsError > q8.relativeRmsError);
    assert.equal(q4.perRow.relative.length, 256);
    q4.perRow.relative.forEach((e, row) => assert.ok(e > q8.perRow.relative[row], `row ${row}`));
    // Relative means against the values' own RMS: the RMS error over the original RMS.
    let sq = 0;
    for (const v of original) sq += v * v;
    assert.ok(Math.abs(report.rms - Math.sqrt(sq / original.length)) < 1e-15);
    assert.ok(Math.abs(q8.relativeRmsError * report.rms - q8.rmsError) < 1e-15);
  });

  it('skips types whose blocks do not fit the rows, and says when the source is itself quantized', () => {
    const tiny = openGGUF(encodeGGUF({ metadata: [], tensors: [{ name: 'w', type: 'F32', shape: [96, 2], data: new Uint8Array(96 * 2 * 4) }] }));
    const r = quantError(tiny, 'w', { types: ['Q8_0', 'Q4_K', 'IQ2_XXS'] });
    assert.deepEqual(r.byType.map((q) => q.type), ['Q8_0']);
    assert.match(r.skipped[0].reason, /rows of 96 values are not whole 256-value Q4_K blocks/);
    assert.match(r.skipped[1].reason, /cannot encode IQ2_XXS yet; it can encode F32, /);
    const q = openGGUF(modelPath('q4_k_m'));
    try {
      assert.match(quantError(q, 'blk.0.attn_q.weight', { types: ['Q8_0'] }).observations[0], /stored as Q4_K: the errors are measured against its dequantized values/);
    } finally {
      q.close();
    }
  });

  it('CLI: quant-error FILE TENSOR --types ... prints one line per type; --json the per-row errors', () => {
    const r = runCli('quant-error', modelPath('f32'), name, '--types', 'Q8_0,Q4_0');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Q8_0\s+8\.5\s+/m);
    assert.match(r.stdout, /^Q4_0\s+4\.5\s+/m);
    const json = JSON.parse(runCli('quant-error', modelPath('f32'), name, '--types', 'Q8_0', '--json').stdout);
    assert.equal(json.byType[0].perRow.relative.length, 256);
  });
});
