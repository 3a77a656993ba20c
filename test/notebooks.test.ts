// The investigation notebooks in notebooks/ (see notebooks/README.md), run as CI runs them: the
// llamascope kernel installed into a temporary prefix, every notebook executed headlessly by
// `jupyter nbconvert --execute` (any failing cell fails the test), the executed copy exported to
// HTML and opened in headless Chromium with the network cut off, where every plot must be drawn.
//
// The notebooks are executed as copies in a scratch directory laid out like the checkout
// (scratch/notebooks/NN.ipynb, scratch/data -> the checkout's data/), so their '../data/...' paths
// resolve, nothing is written into notebooks/, and a notebook that reached outside data/ (e.g. into
// ../shared) would fail here.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { runCli } from './helpers/cli';
import { JUPYTER, PYTHON, REPO, jupyterEnv, scratchDir } from './helpers/jupyter';
import { launchChromium, offlinePage } from './helpers/notebook-browser';

const NOTEBOOKS = path.join(REPO, 'notebooks');
const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

interface Output {
  output_type: string;
  data?: Record<string, string | string[] | object>;
  text?: string | string[];
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  id: string;
  source: string | string[];
  metadata: { tags?: string[] };
  execution_count?: number | null;
  outputs?: Output[];
}
interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name: string; language: string } };
}

const joined = (text: unknown) => (Array.isArray(text) ? text.join('') : typeof text === 'string' ? text : '');
const readNotebook = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
const names = fs.readdirSync(NOTEBOOKS).filter((n) => n.endsWith('.ipynb')).sort();

describe('notebooks/: the investigation notebooks', function () {
  // Executing one takes 5-30 s (the first kernel start after src/ changed also emits the library's
  // type declarations, ~15 s); HTML export and rendering a few seconds more.
  this.timeout(300_000);
  const scratch = scratchDir('notebooks');
  const prefix = path.join(scratch, 'prefix');
  const work = path.join(scratch, 'work');
  const executed = path.join(scratch, 'executed');
  let browser: Browser | undefined;

  before(() => {
    const r = runCli('kernel', 'install', '--prefix', prefix, '--jupyter', JUPYTER);
    assert.equal(r.status, 0, r.stderr);
    fs.mkdirSync(path.join(work, 'notebooks'), { recursive: true });
    fs.mkdirSync(executed);
    fs.symlinkSync(path.join(REPO, 'data'), path.join(work, 'data'));
  });
  after(async () => {
    await browser?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('there are the six notebooks, committed without outputs, for the llamascope kernel', () => {
    assert.deepEqual(names.map((n) => n.slice(0, 3)), ['01-', '02-', '03-', '04-', '05-', '06-']);
    for (const name of names) {
      const file = path.join(NOTEBOOKS, name);
      const r = spawnSync(PYTHON, ['-c', 'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${name} is not valid nbformat:\n${r.stderr}`);
      const nb = readNotebook(file);
      assert.equal(nb.metadata.kernelspec?.name, 'llamascope', name);
      for (const cell of nb.cells.filter((c) => c.cell_type === 'code')) {
        assert.deepEqual([cell.outputs, cell.execution_count], [[], null], `${name}: cell ${cell.id} has outputs; clear them before committing (see notebooks/README.md)`);
      }
    }
  });

  for (const name of names) {
    describe(name, () => {
      const stem = name.replace(/\.ipynb$/, '');
      let nb: Notebook;
      let seconds = 0;

      before(function () {
        fs.copyFileSync(path.join(NOTEBOOKS, name), path.join(work, 'notebooks', name));
        const started = Date.now();
        const r = spawnSync(
          JUPYTER,
          ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=llamascope', '--ExecutePreprocessor.timeout=240', '--output-dir', executed, path.join(work, 'notebooks', name)],
          { env: jupyterEnv(path.join(prefix, 'share', 'jupyter')), encoding: 'utf8', maxBuffer: 1 << 28 },
        );
        seconds = (Date.now() - started) / 1000;
        assert.equal(r.status, 0, `${name} failed to execute (${seconds.toFixed(1)} s):\n${r.stderr.slice(-6000)}`);
        nb = readNotebook(path.join(executed, name));
      });

      it('executes headlessly: every code cell ran, none raised', () => {
        const code = nb.cells.filter((c) => c.cell_type === 'code');
        assert.ok(code.every((c) => typeof c.execution_count === 'number'), 'a code cell did not run');
        const errors = code.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === 'error').map((o) => `${c.id}: ${o.ename}: ${o.evalue}`));
        assert.deepEqual(errors, []);
        // Reported so that slow notebooks show up in the test log.
        console.log(`      ${name} executed in ${seconds.toFixed(1)} s`);
      });

      it('ends with a conclusion cell whose findings are computed (it has output)', () => {
        const code = nb.cells.filter((c) => c.cell_type === 'code');
        const conclusion = code.filter((c) => c.metadata.tags?.includes('conclusion'));
        assert.equal(conclusion.length, 1, 'exactly one code cell tagged "conclusion"');
        assert.equal(conclusion[0], code[code.length - 1], 'the conclusion is the last code cell');
        const text = (conclusion[0].outputs ?? []).map((o) => joined(o.data?.['text/markdown']) || joined(o.data?.['text/plain']) || joined(o.text)).join('\n');
        assert.ok(text.trim().length > 100, `the conclusion printed too little:\n${text}`);
        assert.doesNotMatch(text, /undefined|\$\{/, 'a value in the conclusion was not computed');
        const heading = nb.cells[nb.cells.indexOf(conclusion[0]) - 1];
        assert.match(joined(heading.source), /^## Conclusion/);
      });

      it('exported to HTML, draws every plot offline in Chromium', async () => {
        const figures = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.[PLOTLY_MIME]).length;
        assert.ok(figures > 0, 'the notebook has plots');
        const html = path.join(executed, `${stem}.html`);
        const r = spawnSync(JUPYTER, ['nbconvert', '--to', 'html', '--output', html, path.join(executed, name)], { env: jupyterEnv(), encoding: 'utf8', maxBuffer: 1 << 28 });
        assert.equal(r.status, 0, r.stderr);
        browser ??= await launchChromium();
        const url = pathToFileURL(html).href;
        const { page, blocked, errors } = await offlinePage(browser, url);
        try {
          await page.goto(url);
          await page.waitForFunction(`[...document.querySelectorAll('.llamascope-plot')].every((d) => d.querySelector('svg.main-svg'))`, undefined, { timeout: 60_000 });
          const drawn = await page.evaluate<number[]>(`[...document.querySelectorAll('.llamascope-plot')].map((d) => d.querySelectorAll('svg.main-svg').length)`);
          assert.equal(drawn.length, figures, 'one drawn plot per figure output');
          assert.ok(drawn.every((n) => n > 0));
          // Refused requests are the export template's CDN links (require.js, MathJax), never plotly.
          assert.ok(blocked.every((u) => !/plotly/i.test(u)), blocked.join('\n'));
          assert.deepEqual(errors.filter((e) => !/require|MathJax/i.test(e)), []);
        } finally {
          await page.close();
        }
      });
    });
  }
});
