// One engine's measurement for `measureSpeed` (speed.ts), run as its own process so that its peak
// RSS is its own: our forward (one numeric mode) or llama.cpp through node-llama-cpp. The job comes
// as JSON in argv; progress goes to stderr, one line per step marked with PROGRESS; the result is
// the last stdout line.
// Only raw times and memory are measured here; speed.ts turns them into rates and ratios.
import * as fs from 'node:fs';
import { openGGUF } from '../gguf';
import { useBackend } from '../tensor';
import { LlamaModel, type NumericMode } from '../model/llama';
import { generate } from '../model/generate';

export interface SpeedJob {
  engine: 'ours' | 'llama.cpp';
  file: string;
  /** The prompt's token ids (BOS first); prefill evaluates all of them, decode continues after them. */
  prompt: number[];
  decodeTokens: number;
  trials: number;
  threads: number;
  /** Ours only. */
  mode?: NumericMode;
  backend?: 'cpu' | 'webgpu';
}

/** What a child reports; times are the best of the trials. */
export interface RawSpeed {
  /** The engine as it describes itself (backend and kernels, or llama.cpp's package version). */
  description: string;
  /** Opening the file's header and directory (ours only). */
  openMs: number | null;
  loadMs: number;
  prefillMs: number;
  decodeMs: number;
  /** VmHWM after prefill and decode: the peak while generating. */
  peakRssBytes: number;
  /** Resident memory before the model was loaded (Node, the engine's code). */
  baselineRssBytes: number;
  /** Ours only: the prompt's forward pass with every hook captured (`runWithCache`), warm. */
  runWithCacheMs: number | null;
  /** Ours only: the first such call, which also grows the heap by every activation's size. */
  firstRunWithCacheMs: number | null;
}

/** The child's answer: a measurement, or why llama.cpp cannot run here. */
export type SpeedChildOutput = { result: RawSpeed } | { unavailable: string };

/** Marks the stderr lines that are progress (the rest is diagnostics: warnings, errors). */
export const PROGRESS = 'progress: ';
const progress = (message: string) => process.stderr.write(`${PROGRESS}${message}\n`);

async function measureOurs(job: SpeedJob): Promise<RawSpeed> {
  const baselineRssBytes = process.memoryUsage().rss;
  const openStart = performance.now();
  const file = openGGUF(job.file);
  const openMs = performance.now() - openStart;
  const backend = await useBackend(job.backend ?? 'cpu', { threads: job.threads });
  const loadStart = performance.now();
  const model = await LlamaModel.load(file, { backend });
  const loadMs = performance.now() - loadStart;
  const mode = job.mode ?? 'float';
  // One untimed run of the same shapes first, so that no timed run pays for compiling kernels
  // (JavaScript for the CPU, WGSL pipelines for WebGPU).
  progress(`warm-up: prefill ${job.prompt.length} tokens, decode 1`);
  await generate(model, job.prompt, { maxTokens: 2, mode, temperature: 0, stopAtEos: false });

  // generate() is what a user runs: its first token comes after the prompt's forward pass, each
  // later one after a single-token step. Greedy, and EOS does not stop it, so every trial is alike.
  let prefillMs = Infinity;
  let decodeMs = Infinity;
  for (let trial = 1; trial <= job.trials; trial++) {
    progress(`prefill ${job.prompt.length} tokens (trial ${trial}/${job.trials})`);
    const tokenTimes: number[] = [];
    const start = performance.now();
    await generate(model, job.prompt, {
      maxTokens: job.decodeTokens + 1,
      mode,
      temperature: 0,
      stopAtEos: false,
      onToken: () => {
        tokenTimes.push(performance.now());
        if (tokenTimes.length > 1) progress(`decode ${tokenTimes.length - 1}/${job.decodeTokens}`);
      },
    });
    prefillMs = Math.min(prefillMs, tokenTimes[0] - start);
    decodeMs = Math.min(decodeMs, tokenTimes[job.decodeTokens] - tokenTimes[0]);
  }
  const peakRssBytes = peakRss();

  // The same prompt and options as the prefill above, so the difference is what keeping every
  // activation costs (nothing freed early, no fusion across hook points). Warmed up like the
  // prefill: the first call also grows the heap by every activation's size (page faults), a cost
  // paid once per process.
  const runWithCache = async (): Promise<number> => {
    const start = performance.now();
    const kv = model.newCache();
    const { logits, cache } = await model.runWithCache(job.prompt, { mode, cache: kv, logits: 'last' });
    await logits.data();
    const ms = performance.now() - start;
    for (const t of [logits, ...cache.values(), ...kv.tensors()]) t.dispose();
    return ms;
  };
  progress(`runWithCache, every hook, ${job.prompt.length} tokens (warm-up)`);
  const firstRunWithCacheMs = await runWithCache();
  let runWithCacheMs = Infinity;
  for (let trial = 1; trial <= job.trials; trial++) {
    progress(`runWithCache, every hook, ${job.prompt.length} tokens (trial ${trial}/${job.trials})`);
    runWithCacheMs = Math.min(runWithCacheMs, await runWithCache());
  }
  return { description: `ours, ${backend.description}, ${mode} mode`, openMs, loadMs, prefillMs, decodeMs, peakRssBytes, baselineRssBytes, runWithCacheMs, firstRunWithCacheMs };
}

/** The parts of node-llama-cpp used here (it is an optional, ESM-only devDependency). */
interface LlamaCppModule {
  getLlama(options: object): Promise<{
    loadModel(options: { modelPath: string }): Promise<{
      createContext(options: object): Promise<{ getSequence(): LlamaCppSequence; dispose(): Promise<void> }>;
      dispose(): Promise<void>;
    }>;
    dispose(): Promise<void>;
  }>;
  getModuleVersion(): Promise<string>;
}
interface LlamaCppSequence {
  clearHistory(): Promise<void>;
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
  evaluate(tokens: number[], options: object): AsyncGenerator<number, void>;
}

async function measureLlamaCpp(job: SpeedJob): Promise<SpeedChildOutput> {
  let api: LlamaCppModule;
  let llama: Awaited<ReturnType<LlamaCppModule['getLlama']>>;
  try {
    api = (await import('node-llama-cpp')) as unknown as LlamaCppModule;
    llama = await api.getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, progressLogs: false, logLevel: 'error', maxThreads: job.threads });
  } catch (e) {
    return { unavailable: (e as Error).message.split('\n')[0] };
  }
  const baselineRssBytes = process.memoryUsage().rss;
  const loadStart = performance.now();
  const model = await llama.loadModel({ modelPath: job.file });
  const loadMs = performance.now() - loadStart;
  const context = await model.createContext({
    // The decode run evaluates the prompt and decodeTokens + 1 tokens; 16 spare positions keep
    // node-llama-cpp's context-shift logic out of the timed loop.
    contextSize: job.prompt.length + job.decodeTokens + 16,
    batchSize: job.prompt.length,
    threads: { ideal: job.threads, min: job.threads },
  });
  try {
    const sequence = context.getSequence();
    const prefill = async () => {
      await sequence.clearHistory();
      const start = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(job.prompt);
      return performance.now() - start;
    };
    // The prompt's last token is evaluated inside the timed loop, so the first token generated
    // comes from the prompt and each later one from a single-token step, as in ours.
    const decode = async () => {
      await sequence.clearHistory();
      await sequence.evaluateWithoutGeneratingNewTokens(job.prompt.slice(0, -1));
      const generated = sequence.evaluate(job.prompt.slice(-1), { temperature: 0, yieldEogToken: true });
      await generated.next();
      const start = performance.now();
      for (let i = 0; i < job.decodeTokens; i++) await generated.next();
      const ms = performance.now() - start;
      await generated.return();
      return ms;
    };
    progress('warm-up (first touch of the mapped weights, thread pool start)');
    await prefill();
    await decode();
    let prefillMs = Infinity;
    let decodeMs = Infinity;
    for (let trial = 1; trial <= job.trials; trial++) {
      progress(`prefill ${job.prompt.length} tokens, decode ${job.decodeTokens} (trial ${trial}/${job.trials})`);
      prefillMs = Math.min(prefillMs, await prefill());
      decodeMs = Math.min(decodeMs, await decode());
    }
    const description = `llama.cpp (node-llama-cpp ${await api.getModuleVersion()}, CPU)`;
    return { result: { description, openMs: null, loadMs, prefillMs, decodeMs, peakRssBytes: peakRss(), baselineRssBytes, runWithCacheMs: null, firstRunWithCacheMs: null } };
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
function peakRss(): number {
  const kib = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!kib) throw new Error('cannot read the peak RSS: no VmHWM line in /proc/self/status (Linux only)');
  return Number(kib[1]) * 1024;
}

async function main(job: SpeedJob): Promise<void> {
  const output: SpeedChildOutput = job.engine === 'ours' ? { result: await measureOurs(job) } : await measureLlamaCpp(job);
  process.stdout.write(`${JSON.stringify(output)}\n`);
  // The CPU backend's worker threads would keep the process alive.
  process.exit(0);
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as SpeedJob).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
