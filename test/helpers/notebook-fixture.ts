// Writes an executed-looking notebook (nbformat 4.5) whose outputs are what llamascope's display
// helpers send, produced by running each cell's code through a recording sink (notebook-sink.ts).
// Run as its own process — `node --import tsx notebook-fixture.ts OUT.ipynb` — so that, as in a
// fresh kernel, no plotly.js has been embedded yet.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openGGUF, blockTable, tensorStats } from '../../src';
import { plot, progress, tensorSummary, textStream } from '../../src/notebook';
import { runCell, type NotebookOutput } from './notebook-sink';

export const MODEL = path.resolve(__dirname, '../../data/manllama-6m/manllama-6m-q8_0.gguf');

interface Cell {
  id: string;
  source: string;
  outputs?: NotebookOutput[];
  executionCount?: number;
}

export function buildNotebook(): object {
  const file = openGGUF(MODEL);
  const embedding = file.readRows('token_embd.weight', 0, 32);
  const width = file.tensor('token_embd.weight').shape[0];
  const rowStats = tensorStats(file.readRows('token_embd.weight'), width);
  let clock = 0;
  const code: [string, string, () => unknown][] = [
    ['gguf', 'openGGUF(MODEL)', () => file],
    [
      'progress',
      "const bar = progress({ total: 500, label: 'perplexity', unit: 'tok' }); for (…) bar.advance(); bar.finish()",
      () => {
        const bar = progress({ total: 500, label: 'perplexity', unit: 'tok', now: () => (clock += 7) });
        for (let i = 0; i < 500; i++) bar.advance();
        bar.finish();
      },
    ],
    ['heatmap', "plot.heatmap({ values: embedding, shape: [32, width] }, { title: 'token_embd rows 0:32' })", () => plot.heatmap({ values: embedding, shape: [32, width] }, { title: 'token_embd rows 0:32' })],
    ['line', "plot.line({ rms: rowStats.rowRms }, { xTitle: 'token id' })", () => plot.line({ rms: rowStats.rowRms }, { xTitle: 'token id' })],
    ['histogram', 'plot.histogram(embedding)', () => plot.histogram(embedding)],
    ['scatter', 'plot.scatter(ids, rms)', () => plot.scatter(Array.from(rowStats.rowRms, (_, i) => i), rowStats.rowRms)],
    ['blocks', "blockTable(file, 'token_embd.weight')", () => blockTable(file, 'token_embd.weight')],
    ['summary', "tensorSummary({ values: embedding, shape: [32, width], dtype: 'q8_0', backend: 'cpu', name: 'token_embd.weight' })", () => tensorSummary({ values: embedding, shape: [32, width], dtype: 'q8_0', backend: 'cpu', name: 'token_embd.weight' })],
    [
      'stream',
      "const out = textStream({ prompt: 'Once upon', showTokens: true }); for (const t of tokens) out.write(t); out.end()",
      () => {
        const out = textStream({ prompt: 'Once upon', showTokens: true, now: () => (clock += 30) });
        for (const t of [' a', ' time', ',', ' <there>', ' was']) out.write(t);
        out.end();
      },
    ],
    // Run last, but placed first in the notebook: its plot comes before the carrier in the page.
    ['bar', "plot.bar(['12', ' the', ' the'], [3, 2, 1])", () => plot.bar(['12', ' the', ' the'], [3, 2, 1])],
  ];
  const ran = new Map<string, Cell>(code.map(([id, source, run], i) => [id, { id, source, outputs: runCell(id, i + 1, run), executionCount: i + 1 }]));
  file.close();
  const order = ['bar', 'intro', 'gguf', 'progress', 'heatmap', 'line', 'histogram', 'scatter', 'blocks', 'summary', 'stream'];
  const intro: Cell = { id: 'intro', source: '# llamascope display helpers\nEvery output below was produced by the library.' };
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { language_info: { name: 'typescript' } },
    cells: order.map((id) => {
      const cell = id === 'intro' ? intro : ran.get(id)!;
      if (!cell.outputs) return { cell_type: 'markdown', id: cell.id, metadata: {}, source: cell.source };
      return { cell_type: 'code', id: cell.id, metadata: {}, execution_count: cell.executionCount, source: cell.source, outputs: cell.outputs };
    }),
  };
}

if (require.main === module) fs.writeFileSync(process.argv[2], JSON.stringify(buildNotebook()));
