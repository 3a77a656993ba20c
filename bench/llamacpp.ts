// llama.cpp's speed on a GGUF file, through node-llama-cpp: the yardstick our own inference is
// compared against in the same benchmark run.
// Run: node --import tsx bench/llamacpp.ts MODEL... [--threads 2] [--prefill 128] [--decode 64]
//      MODEL is a GGUF path or SHAPE:TYPE (tinyllama:Q4_0), synthesized by bench/synth-models.ts.
//
// `measureLlamaCpp` runs in a child process, so its peak RSS is llama.cpp's alone (plus Node's
// baseline, reported separately) and the caller's memory does not mix in.
//  - prefill: the N-token prompt (BOS + ordinary text) evaluated in one batch; best of the trials.
//  - decode: M tokens generated greedily right after that prompt, one evaluation per token
//    (context positions N .. N+M-1); best of the trials.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { weightBytesPerToken } from './weight-traffic';
import { formatBandwidth, measureMemoryBandwidth } from './memory-bandwidth';
import { resolveBenchModel } from './synth-models';

export interface LlamaCppOptions {
  threads: number;
  /** Prompt tokens evaluated as one batch (default 128). */
  prefillTokens?: number;
  /** Tokens generated greedily after the prompt (default 64). */
  decodeTokens?: number;
  /** Timed repetitions of each measurement, after one warm-up (default 3). */
  trials?: number;
}

export interface LlamaCppResult {
  model: string;
  threads: number;
  prefillTokens: number;
  decodeTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  loadMs: number;
  /** Peak resident memory of the measuring process (model pages, KV cache, Node itself). */
  peakRssBytes: number;
  /** Resident memory of that process with node-llama-cpp loaded, before the model. */
  baselineRssBytes: number;
}

const PROMPT_TEXT =
  'The quick brown fox jumps over the lazy dog. A file system keeps data in blocks, and the kernel ' +
  'reads them into the page cache before a process sees them. ';

/** Measure llama.cpp's prefill and decode speed on `modelPath` (in a child process). */
export function measureLlamaCpp(modelPath: string, options: LlamaCppOptions): Promise<LlamaCppResult> {
  const job = { modelPath: path.resolve(modelPath), prefillTokens: 128, decodeTokens: 64, trials: 3, ...options };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--child', JSON.stringify(job)], {
      cwd: path.resolve(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`llama.cpp measurement of ${modelPath} failed (exit ${code}):\n${stderr.trim()}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as LlamaCppResult);
    });
  });
}

type ChildJob = Required<LlamaCppOptions> & { modelPath: string };

async function measureInThisProcess(job: ChildJob): Promise<LlamaCppResult> {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, progressLogs: false } as never);
  const baselineRssBytes = process.memoryUsage().rss;
  const loadStart = performance.now();
  const model = await llama.loadModel({ modelPath: job.modelPath });
  const loadMs = performance.now() - loadStart;
  const context = await model.createContext({
    contextSize: job.prefillTokens + job.decodeTokens + 16,
    batchSize: job.prefillTokens,
    threads: job.threads,
  } as never);
  try {
    const sequence = context.getSequence();
    const prompt = [model.tokens.bos!];
    const text = model.tokenize(PROMPT_TEXT);
    while (prompt.length < job.prefillTokens) prompt.push(...text.slice(0, job.prefillTokens - prompt.length));

    const prefill = async () => {
      await sequence.clearHistory();
      const start = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      return performance.now() - start;
    };
    const decode = async () => {
      await sequence.clearHistory();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
      const start = performance.now();
      // Greedy (temperature 0); EOS is yielded like any token so every run generates M tokens.
      const generated = sequence.evaluate(prompt.slice(-1), { temperature: 0, yieldEogToken: true });
      for (let i = 0; i < job.decodeTokens; i++) await generated.next();
      const ms = performance.now() - start;
      await generated.return();
      return ms;
    };

    await prefill(); // warm-up: first touch of the mapped weights, thread pool start
    await decode();
    const prefillMs = Math.min(...(await repeat(job.trials, prefill)));
    const decodeMs = Math.min(...(await repeat(job.trials, decode)));
    return {
      model: job.modelPath,
      threads: job.threads,
      prefillTokens: job.prefillTokens,
      decodeTokens: job.decodeTokens,
      prefillTokensPerSecond: job.prefillTokens / (prefillMs / 1000),
      decodeTokensPerSecond: job.decodeTokens / (decodeMs / 1000),
      loadMs,
      peakRssBytes: peakRssBytes(),
      baselineRssBytes,
    };
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
}

/**
 * The peak resident memory of this process (VmHWM). Not getrusage's maxRSS: Linux carries that
 * across exec, so a child would report its parent's peak when the parent was larger.
 */
function peakRssBytes(): number {
  const kib = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!kib) throw new Error('cannot read the peak RSS: no VmHWM line in /proc/self/status (Linux only)');
  return Number(kib[1]) * 1024;
}

async function repeat(n: number, f: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { threads: { type: 'string', default: '2' }, prefill: { type: 'string', default: '128' }, decode: { type: 'string', default: '64' } },
  });
  if (positionals.length === 0) throw new Error('usage: node --import tsx bench/llamacpp.ts MODEL... [--threads 2] [--prefill 128] [--decode 64]');
  const models = positionals.map(resolveBenchModel);
  const bandwidth = await measureMemoryBandwidth();
  console.log(formatBandwidth(bandwidth));
  console.log(`\nllama.cpp (node-llama-cpp, CPU), ${values.threads} threads, prefill ${values.prefill} tokens, decode ${values.decode} tokens, best of 3`);
  console.log('model                          MB   load s   prefill tok/s   decode tok/s   decode GB/s   share of peak   peak RSS MB');
  for (const model of models) {
    const r = await measureLlamaCpp(model, { threads: Number(values.threads), prefillTokens: Number(values.prefill), decodeTokens: Number(values.decode) });
    const traffic = weightBytesPerToken(model);
    const gbs = (traffic * r.decodeTokensPerSecond) / 1e9;
    console.log(
      `${path.basename(model).padEnd(28)} ${(traffic / 1e6).toFixed(0).padStart(5)}  ${(r.loadMs / 1000).toFixed(2).padStart(7)}` +
        `  ${r.prefillTokensPerSecond.toFixed(1).padStart(14)}  ${r.decodeTokensPerSecond.toFixed(1).padStart(13)}` +
        `  ${gbs.toFixed(1).padStart(12)}  ${((100 * gbs) / bandwidth.peakGBs).toFixed(0).padStart(13)}%  ${(r.peakRssBytes / 1e6).toFixed(0).padStart(12)}`,
    );
  }
  console.log('MB: weight bytes one decoded token reads (bench/weight-traffic.ts); share: decode GB/s over the peak read bandwidth above');
}

if (require.main === module) {
  const childAt = process.argv.indexOf('--child');
  const run =
    childAt >= 0
      ? measureInThisProcess(JSON.parse(process.argv[childAt + 1]) as ChildJob).then((r) => console.log(JSON.stringify(r)))
      : main();
  run.catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
