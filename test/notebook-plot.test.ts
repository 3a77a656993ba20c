import { strict as assert } from 'node:assert';
import type { Browser } from 'playwright-core';
import ndarray from 'ndarray';
import { display, embedPlotly, Figure, PLOTLY_MIME, plot, plotlyCarrierHtml, setDisplaySink, toBundle, type DisplayMessage } from '../src/notebook';
import { launchChromium, offlinePage } from './helpers/notebook-browser';
import { captureDisplays } from './helpers/notebook-sink';
import { rng } from './helpers/tiny-gguf';

const next = rng(7);
const weights = Float32Array.from({ length: 48 * 64 }, () => (next() - 0.5) * 0.2);

/** One figure of each kind, from the kinds of input a notebook has at hand. */
function figures(): Record<string, Figure> {
  return {
    heatmap: plot.heatmap(ndarray(weights, [48, 64]), { title: 'weights', xLabels: Array.from({ length: 64 }, (_, i) => `c${i % 3}`) }),
    line: plot.line({ ours: Float32Array.from([1, 2, 4, 8]), reference: [1, 2.5, 4, 7] }, { x: [0, 1, 2, 3], logY: true }),
    histogram: plot.histogram(weights, { bins: 40 }),
    scatter: plot.scatter([0.1, 0.2, 0.3], [3, 1, 2], { labels: ['the', ' cat', '<b>sat</b>'], color: [1, 2, 3] }),
    bar: plot.bar(['12', ' the', ' the'], Float32Array.from([0.5, 0.25, 0.125])),
  };
}

function page(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>${body}</body></html>`;
}

describe('notebook plots: bundles', () => {
  it('every kind gives plotly JSON, HTML and text/plain; no HTML tag in the data reaches the page unescaped', () => {
    const capture = captureDisplays(); // a notebook sink, so the first figure may embed plotly.js
    try {
      for (const [kind, figure] of Object.entries(figures())) {
        const bundle = toBundle(figure);
        assert.deepEqual(Object.keys(bundle).sort(), ['application/vnd.plotly.v1+json', 'text/html', 'text/plain'], kind);
        const json = bundle[PLOTLY_MIME] as { data: { type: string }[]; layout: object };
        assert.ok(Array.isArray(json.data) && json.data.length > 0, kind);
        assert.equal(typeof json.layout, 'object');
        assert.match(bundle['text/plain'] as string, new RegExp(`^${kind === 'line' ? 'line plot' : kind === 'bar' ? 'bar chart' : kind === 'scatter' ? 'scatter plot' : kind}`));
        // Round trip through JSON (what the kernel sends) loses nothing.
        assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
        assert.ok(!(bundle['text/html'] as string).includes('<b>sat</b>'), `${kind}: data must not inject HTML`);
      }
    } finally {
      capture.restore();
    }
  });

  it('float32 data is sent as the shortest decimals that read back to the same float32', () => {
    const z = (plot.heatmap({ values: weights, shape: [48, 64] }).toJSON().data[0] as { z: number[][] }).z;
    for (let r = 0; r < 48; r++) for (let c = 0; c < 64; c++) assert.equal(Math.fround(z[r][c]), weights[r * 64 + c]);
    assert.ok(JSON.stringify(z).length < weights.length * 13, 'shortest decimals, not float64 expansions');
  });

  it('the histogram counts every finite value once and reports what it left out', () => {
    const values = Float32Array.from([...weights, NaN, Infinity]);
    const figure = plot.histogram(values, { bins: 10 });
    const trace = figure.toJSON().data[0] as { y: number[]; customdata: number[][] };
    assert.equal(trace.y.reduce((a, b) => a + b, 0), weights.length);
    let min = Infinity;
    let max = -Infinity;
    for (const v of weights) ((min = Math.min(min, v)), (max = Math.max(max, v)));
    assert.equal(Math.fround(trace.customdata[0][0]), min, 'first bin starts at the minimum');
    assert.equal(Math.fround(trace.customdata[9][1]), max, 'last bin ends at the maximum');
    assert.match(figure.description, /3,072 values .* 2 non-finite left out/);
  });

  it('refuses bad input with what to do next', () => {
    assert.throws(() => plot.heatmap([[1, 2], [3]]), /row 1 has 1 values but row 0 has 2/);
    assert.throws(() => plot.heatmap({ values: new Float32Array(600_000), shape: [600, 1000] }), /Plot a slice/);
    assert.throws(() => plot.scatter([1, 2], [1]), /x has 2 values but y has 1/);
    assert.throws(() => plot.bar(['a'], [1, 2]), /1 label but 2 values/);
    assert.throws(() => plot.line({ a: [1, 2], b: [1] }), /series 'b' has 1 points but 'a' has 2/);
    assert.throws(() => plot.histogram([NaN, NaN]), /none of the 2 values is finite/);
  });
});

describe('notebook plots: plotly.js embedded once per notebook', () => {
  const carriers = (messages: DisplayMessage[]) => messages.filter((m) => String(m.bundle['text/html']).includes('if (!window.Plotly)'));
  const figure = plot.bar(['a'], [1]);

  it('a new cell reuses the carrier; re-running or deleting the cell that holds it embeds it again', () => {
    let cell = captureDisplays({ cellId: 'A' });
    embedPlotly();
    display(figure);
    assert.equal(carriers(cell.messages).length, 1, 'embedPlotly shows it');
    cell.restore();

    cell = captureDisplays({ cellId: 'B' });
    display(figure);
    toBundle(figure);
    assert.equal(carriers(cell.messages).length, 0, 'cell A still holds it');
    cell.restore();

    cell = captureDisplays(); // a kernel that does not pass cell ids: nothing known to be cleared
    display(figure);
    assert.equal(carriers(cell.messages).length, 0);
    cell.restore();

    cell = captureDisplays({ cellId: 'A' }); // A runs again: its outputs, the carrier among them, are cleared
    const handle = display(figure);
    assert.equal(carriers(cell.messages).length, 1);
    assert.ok(cell.messages.indexOf(carriers(cell.messages)[0]) < cell.messages.length - 1, 'the carrier comes before the figure');
    handle.update(plot.bar(['b'], [2]));
    assert.notEqual(carriers(cell.messages)[0].displayId, handle.displayId, 'updating a figure never replaces the carrier');
    cell.restore();

    cell = captureDisplays({ cellId: 'C', deletedCellIds: ['A'] });
    display(figure);
    display(figure);
    assert.equal(carriers(cell.messages).length, 1, 'A was deleted: embedded again, once');
    cell.restore();
  });

  it('outside a notebook a figure embeds nothing (nothing is printed for plotly.js)', () => {
    setDisplaySink(null);
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      display(figure);
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(written, ['bar chart of 1 value\n']);
  });
});

describe('notebook plots: rendered by plotly.js in headless Chromium, offline', function () {
  let browser: Browser;
  before(async () => (browser = await launchChromium()));
  after(async () => browser?.close());

  it('every kind draws its SVG, including a figure placed before the carrier', async () => {
    const all = Object.entries(figures());
    const [first, ...rest] = all.map(([, f]) => f.toHTML());
    const { page: p, blocked, errors } = await offlinePage(browser);
    await p.setContent(page(`${first}\n${plotlyCarrierHtml()}\n${rest.join('\n')}`));
    await p.waitForFunction(`[...document.querySelectorAll('.llamascope-plot')].filter((d) => d.querySelector('svg.main-svg')).length === ${all.length}`, undefined, { timeout: 30_000 });
    const drawn = await p.evaluate<{ svg: number; text: string }[]>(
      `[...document.querySelectorAll('.llamascope-plot')].map((d) => ({ svg: d.querySelectorAll('svg.main-svg').length, text: d.querySelector('p')?.textContent ?? '' }))`,
    );
    assert.equal(drawn.length, all.length);
    for (const [i, d] of drawn.entries()) {
      assert.ok(d.svg > 0, `${all[i][0]} has an svg.main-svg`);
      assert.equal(d.text, '', `${all[i][0]}: the fallback text is gone`);
    }
    // Each kind's trace drew its marks: heatmap image, lines, bars, points.
    const marks = await p.evaluate<Record<string, number>>(`({
      heatmap: document.querySelectorAll('.hm image').length,
      lines: document.querySelectorAll('.scatterlayer .js-line').length,
      bars: document.querySelectorAll('.barlayer .point').length,
      points: document.querySelectorAll('.scatterlayer .point').length,
    })`);
    assert.equal(marks.heatmap, 1);
    assert.equal(marks.lines, 2);
    assert.equal(marks.bars, 40 + 3);
    assert.equal(marks.points, 3);
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, [], 'nothing was fetched');
  });

  it("plotly.js itself finds every figure's JSON valid (and does flag a broken one)", async () => {
    const { page: p } = await offlinePage(browser);
    await p.setContent(page(plotlyCarrierHtml()));
    const json = Object.values(figures()).map((f) => f.toJSON());
    // Plotly.validate returns undefined for a valid figure, else a list of problems.
    const problems = await p.evaluate<unknown[]>(`${JSON.stringify(json)}.map((f) => Plotly.validate(f.data, f.layout) ?? null)`);
    assert.deepEqual(problems, json.map(() => null));
    const broken = await p.evaluate<unknown>(`Plotly.validate([{ type: 'heatmap', zz: [1] }], {})`);
    assert.ok(Array.isArray(broken) && broken.length > 0);
  });

  it('without a carrier on the page a figure keeps its fallback text, which says what to do', async () => {
    const { page: p, errors } = await offlinePage(browser);
    await p.setContent(page(figures().line.toHTML()));
    const state = await p.evaluate<{ svg: number; text: string }>(
      `({ svg: document.querySelectorAll('svg.main-svg').length, text: document.querySelector('.llamascope-plot')?.textContent ?? '' })`,
    );
    assert.equal(state.svg, 0);
    assert.match(state.text, /run embedPlotly\(\)/);
    assert.deepEqual(errors, []);
  });
});
