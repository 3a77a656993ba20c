import { strict as assert } from 'node:assert';
import { encodeGGUF, openGGUF, type GGUFFile } from '../src/gguf';
import { weightReport, weightRole } from '../src/inspect/weight-report';
import { dequantReferences, modelPath, modelSuffixes } from './helpers/references';
import { runCli } from './helpers/cli';

/** The F32 model rewritten with our writer, one tensor's values changed by `edit`. */
function f32With(name: string, edit: (values: Float32Array, rowLength: number) => void): GGUFFile {
  const f = openGGUF(modelPath('f32'));
  try {
    const bytes = encodeGGUF({
      metadata: f.metadata,
      tensors: f.tensors.map((t) => {
        if (t.name !== name) return { name: t.name, type: t.type, shape: t.shape, data: f.readTensorBytes(t) };
        const values = f.readRows(t);
        edit(values, t.shape[0]);
        return { name: t.name, type: t.type, shape: t.shape, data: new Uint8Array(values.buffer) };
      }),
    });
    return openGGUF(bytes);
  } finally {
    f.close();
  }
}

function rmsOf(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s / values.length);
}

describe('weightReport: per-tensor statistics beside what is typical in the same file', () => {
  it("count, mean and RMS of every tensor of the 21 files agree with llama.cpp's dequantized sums (references/dequant)", () => {
    for (const suffix of modelSuffixes()) {
      const file = openGGUF(modelPath(suffix));
      try {
        const report = weightReport(file);
        const refs = new Map(dequantReferences(suffix).map((r) => [r.name, r]));
        assert.equal(report.tensors.length, refs.size, suffix);
        for (const s of report.tensors) {
          const ref = refs.get(s.name)!;
          assert.equal(s.count, ref.ne.reduce((a, b) => a * b, 1), `${suffix} ${s.name}`);
          // Both are float64 sums that differ only in order: n·2^-53 relative (Σ|v| ≤ sqrt(n·Σv²) for the plain sum).
          assert.ok(Math.abs(s.mean * s.count - ref.sum) <= 1e-12 * Math.sqrt(s.count * ref.sumsq), `${suffix} ${s.name}: sum ${s.mean * s.count} vs ${ref.sum}`);
          assert.ok(Math.abs(s.rms ** 2 * s.count - ref.sumsq) <= 1e-10 * ref.sumsq, `${suffix} ${s.name}: sum of squares`);
        }
        // No tensor of llama.cpp's own files stands out by the default factor of 3.
        assert.deepEqual(report.observations, [], suffix);
      } finally {
        file.close();
      }
    }
  });

  it('groups tensors by kind (6 layers) and by role where a kind has fewer than 3', () => {
    const file = openGGUF(modelPath('f32'));
    try {
      const report = weightReport(file);
      assert.equal(report.typical['blk.3.ffn_norm.weight'].group, 'the 6 ffn_norm.weight tensors');
      assert.equal(report.typical['output_norm.weight'].group, 'the 13 norm tensors');
      assert.equal(report.typical['token_embd.weight'], undefined);
      const byName = new Map(report.tensors.map((s) => [s.name, s]));
      assert.deepEqual(
        ['token_embd.weight', 'blk.0.attn_norm.weight', 'blk.0.attn_v.weight', 'blk.0.ffn_down.weight', 'output.weight'].map((n) => byName.get(n)!.role),
        ['embedding', 'norm', 'attention projection', 'feed-forward projection', 'output head'],
      );
      assert.equal(weightRole('attn_q_norm.weight'), 'norm');
    } finally {
      file.close();
    }
  });

  it('a norm scaled by 100 is flagged, naming the tensor, its RMS and its ratio to the median of its kind', () => {
    const source = openGGUF(modelPath('f32'));
    const ffnNormRms = Array.from({ length: 6 }, (_, i) => rmsOf(source.readRows(`blk.${i}.ffn_norm.weight`)));
    source.close();
    const planted = f32With('blk.3.ffn_norm.weight', (v) => v.forEach((x, i) => (v[i] = x * 100)));
    const report = weightReport(planted);
    const flagged = report.observations.filter((o) => o.tensor === 'blk.3.ffn_norm.weight');
    assert.deepEqual(flagged.map((o) => o.aspect).sort(), ['maxAbs', 'rms']);
    const rms = flagged.find((o) => o.aspect === 'rms')!;
    const withPlanted = ffnNormRms.map((r, i) => (i === 3 ? r * 100 : r)).sort((a, b) => a - b);
    const median = (withPlanted[2] + withPlanted[3]) / 2;
    assert.ok(Math.abs(rms.ratio! - (ffnNormRms[3] * 100) / median) < 1e-6 * rms.ratio!, `ratio ${rms.ratio}`);
    assert.match(rms.text, /^blk\.3\.ffn_norm\.weight: RMS 83\.7 is \d+\.\dx the median of the 6 ffn_norm\.weight tensors \(0\.9\d+\)$/);
    // Nothing else is flagged.
    assert.deepEqual(report.observations.filter((o) => o.tensor !== 'blk.3.ffn_norm.weight'), []);
  });

  it('a token row scaled down 100x is flagged with its token; NaN values are counted', () => {
    const report = weightReport(
      f32With('token_embd.weight', (v, n) => {
        for (let i = 5 * n; i < 6 * n; i++) v[i] *= 0.01;
        v[7 * n + 3] = NaN;
      }),
    );
    const rows = report.observations.find((o) => o.tensor === 'token_embd.weight' && o.aspect === 'rows')!;
    assert.match(rows.text, /1 of 2048 rows have an RMS more than 3x off the median row's 0\.0\d+: rows 5 "<0x02>" \(0\.000\d+\)/);
    const nan = report.observations.find((o) => o.aspect === 'nonFinite')!;
    assert.equal(nan.text, 'token_embd.weight: 1 of 524288 values are NaN or infinite');
    const stats = report.tensors.find((s) => s.name === 'token_embd.weight')!;
    assert.equal(stats.nonFinite, 1);
    assert.ok(Number.isFinite(stats.rms));
  });

  it('CLI: weights FILE prints the table and the observations; --json the report', () => {
    const r = runCli('weights', modelPath('q8_0'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^blk\.3\.ffn_norm\.weight\s+F32\s+\[256\]\s+/m);
    assert.match(r.stdout, /No tensor or row is more than 3x off what is typical/);
    const json = JSON.parse(runCli('weights', modelPath('q8_0'), '--json').stdout);
    assert.equal(json.tensors.length, 57);
    assert.equal(runCli('weights', modelPath('q8_0'), '--factor', '1').status, 2);
  });
});
