// The kernel as a frontend sees it, through jupyter_client (test/fixtures/kernel/session.py): one
// kernel process, started outside the checkout, driven through a notebook's worth of requests.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { MODEL, runSession, scratchDir, type ExecuteResult, type Output } from './helpers/jupyter';

// Each step has a name; the results are looked up by it.
const SCENARIO: [string, object][] = [
  ['define', { execute: 'const kept = 41' }],
  ['expression', { execute: 'kept + 1' }],
  ['typeError', { execute: "const wrong: number = 'text'" }],
  ['afterTypeError', { execute: 'kept' }],
  ['thrown', { execute: "function fail() { throw new RangeError('out of range') }\nfail()" }],
  ['rejected', { execute: "await new Promise((_, reject) => setTimeout(() => reject(new Error('async failure')), 10))" }],
  ['rejectionInCell', { execute: "Promise.reject(new Error('nobody awaits this')); 'done'" }],
  ['laterRejection', { execute: "setTimeout(() => Promise.reject(new Error('rejected while idle')), 50); 'scheduled'" }],
  ['idle', { sleep: 0.5 }],
  ['reportsEarlier', { execute: '1' }],
  ['busyLoop', { execute: 'while (true) {}', interrupt_after: 2 }],
  ['afterInterrupt', { execute: 'kept' }],
  ['endlessAwait', { execute: 'await new Promise(() => {})', interrupt_after: 2 }],
  ['interruptRequest', { execute: 'await new Promise(() => {})', interrupt_request_after: 2 }],
  ['import', { execute: `import { openGGUF, display, DISPLAY } from 'llamascope'\nconst file = openGGUF(${JSON.stringify(MODEL)})` }],
  ['metadata', { execute: "file.get('llama.block_count')" }],
  ['ggufResult', { execute: 'file' }],
  ['libraryTypes', { execute: 'file.get(42)' }],
  ['displayUpdate', { execute: "const shown = display({ [DISPLAY]: () => ({ 'text/html': '<b>0%</b>', 'text/plain': '0%' }) })\nshown.update('100%')" }],
  ['emptyBundle', { execute: '({ [DISPLAY]: () => ({}) })' }],
  ['renderFails', { execute: "({ [DISPLAY]: () => { throw new Error('cannot render') } })" }],
  ['clear', { execute: "import { clearOutput } from 'llamascope/src/kernel/clear-output'\nconsole.log('before'); clearOutput({ wait: true })" }],
  ['cellInfo', { execute: "import { onCellStart } from 'llamascope'\nonCellStart((cell) => cell.cellId && console.log('starting', cell.cellId))" }],
  ['withCellId', { execute: '2', metadata: { cellId: 'cell-7' } }],
  ['liveOutput', { execute: "console.log('first'); const until = Date.now() + 2000; while (Date.now() < until) {} console.log('second')" }],
  ['heartbeat', { execute: 'const end = Date.now() + 3000; while (Date.now() < end) {}', heartbeat_after: 1 }],
  ['runAll', { execute_batch: ['const a1 = 1', "throw new Error('first fails')", 'const a3 = 3', 'a1 + 1'] }],
  ['afterRunAll', { execute: 'a1' }],
  ['runAllNoStop', { execute_batch: ["throw new Error('ignored')", 'const b2 = 2'], stop_on_error: false }],
  ['silent', { execute: "console.log('hidden'); 5", silent: true }],
  ['noHistory', { execute: '7', store_history: false }],
  ['help', { execute: 'openGGUF?' }],
  ['completeAfterAstral', { complete: 'const 😀 = 1; Math.hyp' }],
  ['completeLibrary', { complete: 'file.ge' }],
  ['history', { history: { hist_access_type: 'tail', n: 2, output: true, raw: true } }],
  ['restart', { restart: true }],
  ['forgotten', { execute: 'kept' }],
  ['fresh', { execute: '1 + 1' }],
];

describe('kernel: a session through jupyter_client', () => {
  const results = new Map<string, any>();
  before(() => {
    const cwd = scratchDir('kernel-session');
    try {
      runSession(SCENARIO.map(([, step]) => step), { cwd }).forEach((result, i) => results.set(SCENARIO[i][0], result));
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
  const run = (name: string): ExecuteResult => results.get(name);
  const kinds = (r: ExecuteResult) => r.outputs.map((o) => o.kind);
  const only = (r: ExecuteResult, kind: string): Output => {
    const found = r.outputs.filter((o) => o.kind === kind);
    assert.equal(found.length, 1, `one ${kind} in ${JSON.stringify(r.outputs)}`);
    return found[0];
  };
  const text = (r: ExecuteResult, name: 'stdout' | 'stderr') => r.outputs.filter((o) => o.kind === 'stream' && o.content.name === name).map((o) => o.content.text).join('');
  const assertError = (r: ExecuteResult, ename: string, evalue: RegExp) => {
    assert.equal(r.reply.status, 'error', JSON.stringify(r.reply));
    const error = only(r, 'error').content;
    assert.equal(error.ename, ename);
    assert.match(error.evalue, evalue);
    assert.deepEqual([r.reply.ename, r.reply.evalue, r.reply.traceback], [error.ename, error.evalue, error.traceback]);
    return error;
  };

  it('counts executions and sends a cell’s last value as execute_result', () => {
    assert.deepEqual(kinds(run('define')), ['execute_input']);
    assert.equal(run('define').reply.execution_count, 1);
    const r = run('expression');
    assert.deepEqual(kinds(r), ['execute_input', 'execute_result']);
    assert.deepEqual(only(r, 'execute_result').content, { execution_count: 2, data: { 'text/plain': '42' }, metadata: {} });
    assert.deepEqual([r.reply.status, r.reply.execution_count], ['ok', 2]);
  });

  it('reports a type error as an error that points at the code, and later cells still run', () => {
    const error = assertError(run('typeError'), 'TypeScriptError', /Type 'string' is not assignable to type 'number'/);
    assert.deepEqual(error.traceback.slice(1), ["line 1, column 7: Type 'string' is not assignable to type 'number'.", "    const wrong: number = 'text'", '          ^']);
    assert.equal(run('typeError').reply.execution_count, 3);
    assert.equal(only(run('afterTypeError'), 'execute_result').content.data['text/plain'], '41');
  });

  it('reports thrown errors and rejected awaits with name, message and the cell’s frames only', () => {
    const thrown = assertError(run('thrown'), 'RangeError', /^out of range$/);
    assert.equal(thrown.traceback[0], 'RangeError: out of range');
    assert.ok(thrown.traceback.some((line: string) => /at fail \(/.test(line)), thrown.traceback.join('\n'));
    assert.ok(!thrown.traceback.some((line: string) => /node:vm|tslab|src\/kernel/.test(line)), thrown.traceback.join('\n'));
    assertError(run('rejected'), 'Error', /^async failure$/);
  });

  it('reports unhandled rejections: in the cell that caused them, or else in the next cell', () => {
    assert.match(text(run('rejectionInCell'), 'stderr'), /A promise was rejected, and nothing awaited or caught it:\nError: nobody awaits this/);
    assert.equal(run('rejectionInCell').reply.status, 'ok');
    assert.equal(text(run('laterRejection'), 'stderr'), '');
    assert.match(text(run('reportsEarlier'), 'stderr'), /^From an earlier cell: A promise was rejected, and nothing awaited or caught it:\nError: rejected while idle/);
  });

  it('interrupts a synchronous loop and an endless await; the kernel keeps its state', () => {
    assertError(run('busyLoop'), 'Interrupted', /interrupted/);
    assert.equal(only(run('afterInterrupt'), 'execute_result').content.data['text/plain'], '41');
    assertError(run('endlessAwait'), 'Interrupted', /interrupted/);
    // interrupt_request (control channel) for frontends that send it despite interrupt_mode 'signal'.
    assertError(run('interruptRequest'), 'Interrupted', /interrupted/);
  });

  it('imports llamascope from outside the checkout, with its types, and renders a GGUF file', () => {
    assert.equal(run('import').reply.status, 'ok', JSON.stringify(run('import').outputs));
    assert.equal(only(run('metadata'), 'execute_result').content.data['text/plain'], '6');
    const rendered = only(run('ggufResult'), 'execute_result').content.data;
    assert.ok(typeof rendered['text/html'] === 'string' && typeof rendered['text/plain'] === 'string', Object.keys(rendered).join());
    assertError(run('libraryTypes'), 'TypeScriptError', /Argument of type 'number' is not assignable to parameter of type 'string'/);
  });

  it('sends display() as display_data and handle.update() as update_display_data with the same display_id', () => {
    const r = run('displayUpdate');
    const shown = only(r, 'display_data').content;
    const updated = only(r, 'update_display_data').content;
    assert.deepEqual(shown.data, { 'text/html': '<b>0%</b>', 'text/plain': '0%' });
    assert.deepEqual(updated.data, { 'text/plain': '100%' });
    assert.ok(shown.transient.display_id);
    assert.equal(updated.transient.display_id, shown.transient.display_id);
    assert.ok(!kinds(r).includes('execute_result'), 'a statement ends the cell');
    assert.deepEqual(kinds(run('emptyBundle')), ['execute_input'], 'an empty bundle shows nothing');
    assertError(run('renderFails'), 'Error', /^cannot render$/);
  });

  it('sends clear_output after the text printed before it', () => {
    const r = run('clear');
    assert.deepEqual(kinds(r), ['execute_input', 'stream', 'clear_output']);
    assert.deepEqual(r.outputs[2].content, { wait: true });
  });

  it('tells the display layer which cell starts (JupyterLab’s metadata.cellId)', () => {
    assert.equal(text(run('withCellId'), 'stdout'), 'starting cell-7\n');
  });

  it('streams output and answers heartbeats while a cell computes synchronously', () => {
    const r = run('liveOutput');
    const first = r.outputs.find((o) => o.kind === 'stream' && o.content.text.includes('first'))!;
    assert.ok(first.ms < 1500 && r.reply_ms >= 2000, `first at ${first.ms} ms, reply at ${r.reply_ms} ms`);
    assert.match(text(r, 'stdout'), /first\n.*second\n/s);
    const beat = run('heartbeat').heartbeat_ms;
    assert.ok(typeof beat === 'number' && beat < 1000, `heartbeat took ${beat} ms`);
  });

  it('after a failure in “Run All”, the queued cells are not run and say why; with stop_on_error false they run', () => {
    const [first, failed, third, fourth] = results.get('runAll') as ExecuteResult[];
    assert.equal(first.reply.status, 'ok');
    const count = failed.reply.execution_count;
    assertError(failed, 'Error', /first fails/);
    for (const skipped of [third, fourth]) {
      assertError(skipped, 'NotRun', new RegExp(`cell \\[${count}\\] failed before it`));
      assert.equal(skipped.reply.execution_count, null);
    }
    assert.equal(only(run('afterRunAll'), 'execute_result').content.data['text/plain'], '1');
    const [ignored, ran] = results.get('runAllNoStop') as ExecuteResult[];
    assert.equal(ignored.reply.status, 'error');
    assert.equal(ran.reply.status, 'ok');
  });

  it('keeps silent requests silent and out of the count; store_history false does not count', () => {
    const count = (results.get('runAllNoStop') as ExecuteResult[])[1].reply.execution_count;
    assert.deepEqual(run('silent').outputs, []);
    assert.deepEqual([run('silent').reply.status, run('silent').reply.execution_count], ['ok', count]);
    assert.equal(run('noHistory').reply.execution_count, count);
    assert.equal(only(run('noHistory'), 'execute_result').content.execution_count, count);
  });

  it('answers name? with the documentation in the pager', () => {
    const [page] = run('help').reply.payload;
    assert.equal(page.source, 'page');
    assert.match(page.data['text/plain'], /function openGGUF\(input: string \| Uint8Array/);
  });

  it('counts completion positions in code points, and completes the library’s members', () => {
    const astral = results.get('completeAfterAstral').reply;
    // 'const 😀 = 1; Math.' is 18 code points (19 UTF-16 units).
    assert.deepEqual([astral.matches, astral.cursor_start, astral.cursor_end], [['hypot'], 18, 21]);
    assert.ok(results.get('completeLibrary').reply.matches.includes('get'));
  });

  it('returns the history of inputs with their outputs', () => {
    const { history } = results.get('history').reply;
    const countOfHelp = run('help').reply.execution_count;
    // Silent and store_history=false requests are not recorded.
    assert.deepEqual(history, [
      [1, countOfHelp - 1, ['const b2 = 2', null]],
      [1, countOfHelp, ['openGGUF?', null]],
    ]);
  });

  it('restarts with fresh state and a fresh count', () => {
    assert.deepEqual(results.get('restart'), { restarted: true });
    assertError(run('forgotten'), 'TypeScriptError', /Cannot find name 'kept'/);
    assert.equal(run('forgotten').reply.execution_count, 1);
    assert.equal(only(run('fresh'), 'execute_result').content.execution_count, 2);
  });
});
