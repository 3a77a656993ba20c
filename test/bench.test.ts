// `llamascope bench`: not timed. Runs the real command on the small shared model with tiny token
// counts and checks that its figures are what they claim to be — derived from the file's tensor
// sizes (llama.cpp's own listing, references/dequant), from the rates, and from each other.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli';
import { dequantReferences, modelPath } from './helpers/references';
import { formatSpeedReports, type EngineSpeed, type SpeedReport } from '../src/inspect/speed';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.abs(expected), `${what}: ${actual} vs ${expected}`);

describe('llamascope bench', () => {
  const file = modelPath('q8_0');
  const tensors = dequantReferences('q8_0');
  const tensorBytes = tensors.reduce((n, t) => n + t.nbytes, 0);
  // A decoded token reads every weight once, but one row of the token embedding (the output head is separate here).
  const embedding = tensors.find((t) => t.name === 'token_embd.weight')!;
  assert.ok(tensors.some((t) => t.name === 'output.weight'), 'the test model has an untied output head');
  const bytesPerToken = tensorBytes - embedding.nbytes + embedding.nbytes / embedding.ne[1];

  // One measuring run (it takes ~10 s, most of it the memory bandwidth); the table is printed from its JSON.
  let report: SpeedReport;

  it('--json: rates, GB/s, bandwidth share, RSS and ratios of ours and llama.cpp agree with each other and the file', () => {
    const r = runCli('bench', file, '--threads', '2', '--prefill', '8', '--decode', '4', '--ours-prefill', '6', '--ours-decode', '3', '--trials', '1', '--mode', 'llama.cpp,float', '--json');
    assert.equal(r.status, 0, r.stderr);
    report = JSON.parse(r.stdout) as SpeedReport;
    assert.match(r.stderr, /ours \(float\): decode 3\/3/, 'progress on stderr');

    assert.equal(report.fileBytes, fs.statSync(file).size);
    assert.equal(report.weightBytesPerToken, bytesPerToken);
    assert.equal(report.threads, 2);
    const bandwidth = report.bandwidth!;
    assert.deepEqual(Object.keys(bandwidth.gbPerSecond.line), ['1', '2']);
    assert.equal(bandwidth.peakGBs, Math.max(...Object.values(bandwidth.gbPerSecond).flatMap((byThreads) => Object.values(byThreads))));

    assert.equal(report.llamaCppUnavailable, null);
    const llamaCpp = report.llamaCpp!;
    const version = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../node_modules/node-llama-cpp/package.json'), 'utf8')).version;
    assert.ok(llamaCpp.description.includes(`node-llama-cpp ${version}`), llamaCpp.description);
    assert.deepEqual(report.ours.map((o) => o.mode), ['llama.cpp', 'float']);

    const checkEngine = (e: EngineSpeed, name: string, prefillTokens: number, decodeTokens: number) => {
      assert.equal(e.prefillTokens, prefillTokens, name);
      assert.equal(e.decodeTokens, decodeTokens, name);
      assert.equal(e.trials, 1, name);
      for (const x of [e.prefillTokensPerSecond, e.decodeTokensPerSecond, e.loadMs]) assert.ok(Number.isFinite(x) && x > 0, `${name}: ${x}`);
      close(e.decodeGBs, (bytesPerToken * e.decodeTokensPerSecond) / 1e9, `${name} decode GB/s`);
      close(e.bandwidthShare!, e.decodeGBs / bandwidth.peakGBs, `${name} bandwidth share`);
      // The whole file is resident at the peak: our copies of the weights, llama.cpp's mapped pages.
      assert.ok(e.peakRssBytes >= e.baselineRssBytes + tensorBytes, `${name}: peak RSS ${e.peakRssBytes} < baseline ${e.baselineRssBytes} + weights ${tensorBytes}`);
      close(e.peakRssPerFileByte, e.peakRssBytes / report.fileBytes, `${name} RSS per file byte`);
    };
    checkEngine(llamaCpp, 'llama.cpp', 8, 4);
    for (const o of report.ours) {
      checkEngine(o, `ours ${o.mode}`, 6, 3);
      assert.match(o.description, new RegExp(`^ours, cpu .*, ${o.mode.replace('.', '\\.')} mode$`));
      assert.ok(o.openMs > 0);
      close(o.hooks.forwardMs, (1000 * o.prefillTokens) / o.prefillTokensPerSecond, `${o.mode}: the plain forward is the prefill`);
      close(o.hooks.ratio, o.hooks.runWithCacheMs / o.hooks.forwardMs, `${o.mode} runWithCache ratio`);
      assert.ok(o.hooks.firstRunWithCacheMs > 0, `${o.mode}: the first runWithCache is reported`);
    }

    assert.deepEqual(report.ratios.map((q) => q.mode), ['llama.cpp', 'float']);
    report.ratios.forEach((q, i) => {
      const o = report.ours[i];
      close(q.prefill, o.prefillTokensPerSecond / llamaCpp.prefillTokensPerSecond, 'prefill ratio');
      close(q.decode, o.decodeTokensPerSecond / llamaCpp.decodeTokensPerSecond, 'decode ratio');
      close(q.load, o.loadMs / llamaCpp.loadMs, 'load ratio');
      close(q.peakRss, o.peakRssBytes / llamaCpp.peakRssBytes, 'peak RSS ratio');
    });
  });

  it('the table (what bench prints without --json) shows both engines, their token counts and the ratios', function () {
    if (!report) this.skip();
    const table = formatSpeedReports([report]);
    assert.match(table, /manllama-6m-q8_0\.gguf: 6 MB file, 6 MB of weights read per decoded token, 2 threads, memory read peak \d+\.\d GB\/s\n/);
    assert.match(table, /^llama\.cpp\s+8\s+\S+\s+4\s/m);
    assert.match(table, /^ours, llama\.cpp mode\s+6\s+\S+\s+3\s/m);
    assert.match(table, /^ours, float mode\s+6\s+\S+\s+3\s/m);
    // The ratio row: prefill, decode, load and peak RSS ratios as printed (rounded), in that order.
    const row = /^ours\/llama\.cpp, llama\.cpp\s+(.*)$/m.exec(table);
    assert.ok(row, table);
    const printed = row[1].trim().split(/\s+/).map(Number);
    const q = report.ratios[0];
    [q.prefill, q.decode, q.load, q.peakRss].forEach((x, i) => assert.ok(Math.abs(printed[i] - x) <= 0.005 + 0.05 * x, `ratio ${i}: printed ${printed[i]}, JSON ${x}`));
  });

  it('refuses bad counts (usage, exit 2) and runs longer than the context (exit 1), saying what to change', () => {
    const zero = runCli('bench', file, '--decode', '0');
    assert.equal(zero.status, 2);
    assert.match(zero.stderr, /--decode must be a whole number of at least 1, got '0'/);
    const backend = runCli('bench', file, '--backend', 'tpu');
    assert.equal(backend.status, 2);
    assert.match(backend.stderr, /--backend must be cpu or webgpu/);
    const long = runCli('bench', file, '--prefill', '250', '--decode', '8');
    assert.equal(long.status, 1);
    assert.match(long.stderr, /need 274 positions but .* holds 256; use fewer prefill or decode tokens/);
  });
});
