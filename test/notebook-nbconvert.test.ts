// The acceptance path: a notebook holding llamascope's outputs, exported by Debian's
// `jupyter nbconvert --to html`, opened in headless Chromium with the network cut off, shows every
// Plotly plot as SVG (nbconvert ignores the plotly MIME type, so this is the text/html path).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { openGGUF } from '../src';
import { launchChromium, offlinePage } from './helpers/notebook-browser';

const JUPYTER = '/usr/bin/jupyter';
const PYTHON = '/usr/bin/python3'; // Debian's, which has nbformat (the python3 first on PATH may not)
const FIXTURE = path.resolve(__dirname, 'helpers/notebook-fixture.ts');

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stderr;
}

/** What the page shows of the non-plot outputs. */
interface OtherOutputs {
  metadataRows: number;
  tensorNames: string[];
  blockRows: number;
  blockCaption?: string;
  summaryBars: number;
  progress?: string;
  progressText?: string;
  stream?: string;
  streamState?: string;
}

describe('notebook outputs through jupyter nbconvert --to html, in headless Chromium offline', function () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-nbconvert-'));
  const notebook = path.join(dir, 'display.ipynb');
  const html = path.join(dir, 'display.html');
  let browser: Browser;

  before(async () => {
    // A fresh process, as a fresh kernel: the first figure it renders embeds plotly.js.
    run(process.execPath, ['--import', 'tsx', FIXTURE, notebook]);
    run(JUPYTER, ['nbconvert', '--to', 'html', '--output', html, notebook]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the notebook is valid nbformat 4.5 (Jupyter would open and save it as it is)', () => {
    run(PYTHON, ['-c', 'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))', notebook]);
  });

  it('plotly.js is in the notebook once, before the first figure that ran', () => {
    const cells = (JSON.parse(fs.readFileSync(notebook, 'utf8')) as { cells: { id: string; outputs?: { data: Record<string, unknown> }[] }[] }).cells;
    const carrying = cells.filter((c) => c.outputs?.some((o) => String(o.data['text/html']).includes('if (!window.Plotly)')));
    assert.deepEqual(carrying.map((c) => c.id), ['heatmap']);
    assert.equal(fs.readFileSync(html, 'utf8').split('if (!window.Plotly)').length - 1, 1);
  });

  it('every plot is drawn as SVG — the one above the carrier too — and nothing is fetched for them', async () => {
    const url = pathToFileURL(html).href;
    const { page, blocked, errors } = await offlinePage(browser, url);
    await page.goto(url);
    await page.waitForFunction(`[...document.querySelectorAll('.llamascope-plot')].every((d) => d.querySelector('svg.main-svg'))`, undefined, { timeout: 30_000 });
    const plots = await page.evaluate<number[]>(`[...document.querySelectorAll('.llamascope-plot')].map((d) => d.querySelectorAll('svg.main-svg').length)`);
    assert.equal(plots.length, 5);
    assert.ok(plots.every((n) => n > 0));
    // What was refused is the export template's own CDN links (require.js, MathJax), never plotly.
    assert.ok(blocked.every((u) => !/plotly/i.test(u)), blocked.join('\n'));
    assert.deepEqual(errors.filter((e) => !/require|MathJax/i.test(e)), []);
  });

  it('the other outputs render: GGUF tables, truncated block table, summary histogram, final progress, streamed text', async () => {
    const url = pathToFileURL(html).href;
    const { page } = await offlinePage(browser, url);
    await page.goto(url);
    const seen = await page.evaluate<OtherOutputs>(`({
      metadataRows: document.querySelectorAll('.llamascope-gguf-metadata tbody tr').length,
      tensorNames: [...document.querySelectorAll('.llamascope-gguf-tensors tbody tr td:nth-child(2)')].map((td) => td.textContent),
      blockRows: document.querySelectorAll('.llamascope-table tbody tr').length,
      blockCaption: document.querySelector('.llamascope-table caption')?.textContent,
      summaryBars: document.querySelectorAll('.llamascope-summary svg rect').length,
      progress: document.querySelector('.llamascope-progress')?.getAttribute('data-state'),
      progressText: document.querySelector('.llamascope-progress')?.textContent,
      stream: document.querySelector('.llamascope-stream')?.textContent,
      streamState: document.querySelector('.llamascope-stream')?.getAttribute('data-state'),
    })`);
    const file = openGGUF(path.resolve(__dirname, '../data/manllama-6m/manllama-6m-q8_0.gguf'));
    try {
      assert.equal(seen.metadataRows, file.metadata.size);
      assert.deepEqual(seen.tensorNames, file.tensors.map((t) => t.name));
      const blocks = file.tensor('token_embd.weight').nElements / 32;
      assert.equal(seen.blockRows, 21, '10 first + gap + 10 last');
      assert.match(seen.blockCaption ?? '', new RegExp(`^Arrow table, ${blocks.toLocaleString('en-US')} rows × 5 columns, ${(blocks - 20).toLocaleString('en-US')} rows not shown`));
    } finally {
      file.close();
    }
    assert.equal(seen.summaryBars, 32);
    assert.equal(seen.progress, 'finished');
    assert.match(seen.progressText ?? '', /100%.*500\/500 tok.* done/);
    assert.equal(seen.stream, 'Once upon a time, <there> was');
    assert.equal(seen.streamState, 'ended');
  });
});
