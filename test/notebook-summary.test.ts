import { strict as assert } from 'node:assert';
import ndarray from 'ndarray';
import { summaryBundle, toBundle, tensorSummary } from '../src/notebook';
import { flatValues } from '../src/notebook/arrays';
import { rng } from './helpers/tiny-gguf';

/** min, max, mean, RMS computed here in float64, independently of inspect/stats. */
function reference(values: Float32Array) {
  let min = Infinity, max = -Infinity, sum = 0, sq = 0, n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    sq += v * v;
    n++;
  }
  return { min, max, mean: sum / n, RMS: Math.sqrt(sq / n), n };
}

describe('notebook tensor summaries', () => {
  const next = rng(11);
  const values = Float32Array.from({ length: 6 * 40 }, () => (next() - 0.3) * 2);
  values[17] = NaN;
  values[99] = -Infinity;

  it('shape, dtype, backend and statistics that match an independent computation', () => {
    const bundle = summaryBundle({ values, shape: [6, 40], dtype: 'f32', backend: 'webgpu', name: 'blk.0.attn_q.weight' });
    const lines = (bundle['text/plain'] as string).split('\n');
    assert.equal(lines[0], 'blk.0.attn_q.weight  [6, 40] f32 on webgpu');
    const shown = Object.fromEntries([...lines[1].matchAll(/(\S+) (\S+)/g)].map((m) => [m[1], m[2]]));
    const ref = reference(values);
    for (const key of ['min', 'max', 'mean', 'RMS'] as const) {
      assert.ok(Math.abs(Number(shown[key]) - ref[key]) <= 1e-4 * Math.abs(ref[key]), `${key}: ${shown[key]} vs ${ref[key]}`);
    }
    assert.equal(shown.values, '240');
    assert.equal(shown['non-finite'], '2');
    // The small histogram: 32 bars in text and in the SVG, whose tooltips count every finite value once.
    assert.equal(Array.from(lines[2].split('  [')[0]).length, 32);
    const html = bundle['text/html'] as string;
    const counts = [...html.matchAll(/<title>\[[^\]]+\]: (\d+)<\/title>/g)].map((m) => Number(m[1]));
    assert.equal(counts.length, 32);
    assert.equal(counts.reduce((a, b) => a + b, 0), ref.n);
    assert.ok(html.includes('<b>blk.0.attn_q.weight</b> [6, 40]'));
  });

  it('an ndarray brings its own shape; strided views are read in row-major order', () => {
    const matrix = ndarray(Float32Array.from({ length: 12 }, (_, i) => i), [3, 4]);
    const transposed = matrix.transpose(1, 0);
    const expected: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) expected.push(transposed.get(i, j));
    assert.deepEqual(Array.from(flatValues(transposed)), expected);
    const text = toBundle(tensorSummary({ values: transposed, dtype: 'f32', backend: 'cpu' }))['text/plain'] as string;
    assert.match(text, /^\[4, 3\] f32 on cpu\nmin 0  max 11  mean 5\.5 /);
  });

  it('says when values and shape disagree', () => {
    assert.throws(() => summaryBundle({ values, shape: [6, 41], dtype: 'f32', backend: 'cpu' }), /shape \[6, 41\] holds 246 values, but 240 were given/);
    assert.throws(() => summaryBundle({ values, dtype: 'f32', backend: 'cpu' }), /needs the shape/);
  });
});
