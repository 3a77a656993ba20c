// A notebook executed headlessly, as CI or a report pipeline would: `jupyter nbconvert --execute`
// with our kernel, outputs stored in the executed copy.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, JUPYTER, jupyterEnv, scratchDir } from './helpers/jupyter';

interface Cell {
  cell_type: string;
  execution_count: number | null;
  outputs: { output_type: string; execution_count?: number; data?: Record<string, string | string[]>; ename?: string; evalue?: string; traceback?: string[] }[];
}

const joined = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join('') : text);

describe('kernel: a notebook run by jupyter nbconvert --execute', () => {
  let cells: Cell[];
  before(() => {
    const out = scratchDir('kernel-notebook');
    try {
      // Executed in place (the kernel starts in the notebook's directory, three levels below the
      // repository); only the executed copy is written elsewhere.
      const r = spawnSync(JUPYTER, ['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.timeout=120', '--output-dir', out, path.join(FIXTURES, 'notebook.ipynb')], {
        env: jupyterEnv(),
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      cells = JSON.parse(fs.readFileSync(path.join(out, 'notebook.ipynb'), 'utf8')).cells.filter((c: Cell) => c.cell_type === 'code');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('stores execute_results with the execution counts of their cells', () => {
    assert.deepEqual(cells.map((c) => c.execution_count), [1, 2, 3, 4, 5, 6, 7]);
    const [answer] = cells[0].outputs;
    assert.deepEqual([answer.output_type, answer.execution_count, joined(answer.data?.['text/plain'])], ['execute_result', 1, '42']);
  });

  it('stores a rich display with every MIME type of its bundle', () => {
    assert.equal(cells[1].outputs.length, 1);
    const [shown] = cells[1].outputs;
    assert.equal(shown.output_type, 'display_data');
    assert.equal(joined(shown.data?.['text/html']), '<b>bold</b> text');
    assert.equal(joined(shown.data?.['text/plain']), 'bold text');
  });

  it('stores an output updated in place as its last state', () => {
    assert.equal(cells[2].outputs.length, 1);
    assert.equal(joined(cells[2].outputs[0].data?.['text/plain']), 'step 3 of 3');
  });

  it('stores errors with name, value and traceback; the cells after them run', () => {
    const [typeError] = cells[3].outputs;
    assert.deepEqual([typeError.output_type, typeError.ename, typeError.evalue], ['error', 'TypeScriptError', "Type 'string' is not assignable to type 'number'."]);
    assert.ok(typeError.traceback?.includes("    const count: number = 'three'"));
    const [thrown] = cells[4].outputs;
    assert.deepEqual([thrown.output_type, thrown.ename, thrown.evalue, thrown.traceback?.[0]], ['error', 'Error', 'planned failure', 'Error: planned failure']);
    assert.equal(joined(cells[5].outputs[0].data?.['text/plain']), '43');
  });

  it('imports llamascope by name and reads a model next to the repository', () => {
    const [name] = cells[6].outputs;
    assert.deepEqual([name.output_type, joined(name.data?.['text/plain'])], ['execute_result', 'manllama-6m']);
  });
});
