// How fast a model generates with our forward and with llama.cpp (through node-llama-cpp) on the
// same file, the same prompt tokens and the same thread count, measured in one run: prefill and
// decode tokens/s, the GB/s of weights decoding reads and its share of the memory bandwidth
// measured in the same run, load time and peak RSS against the file size, and what capturing
// every hook (`runWithCache`) costs over the plain forward. Each engine runs in its own child
// process (speed-child.ts), so its peak RSS is its own.
//
// Rates are comparable across token counts, so our (slow) forward may be measured over fewer
// tokens than llama.cpp's; prefill rates still depend on the batch size, so reports state both.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openGGUF } from '../gguf';
import { readHParams } from '../model/hparams';
import { Tokenizer } from '../model/tokenizer';
import type { NumericMode } from '../model/llama';
import { defaultThreads } from '../backend/cpu/wasm/runtime';
import { measureMemoryBandwidth, type MemoryBandwidth } from './memory-bandwidth';
import { weightBytesPerToken } from './weight-traffic';
import { PROGRESS, type RawSpeed, type SpeedChildOutput, type SpeedJob } from './speed-child';

export interface TokenCounts {
  /** Prompt tokens evaluated as one batch. */
  prefillTokens: number;
  /** Tokens generated greedily after the prompt, one step each. */
  decodeTokens: number;
  /** Timed repetitions; the best is reported. */
  trials: number;
}

/**
 * Ours: the same 128-token prompt as llama.cpp (prefill rates depend on the batch), fewer decode
 * steps and one trial — with the WASM fast path a TinyLlama token takes ~0.2 s, a prompt ~25 s.
 */
export const OUR_DEFAULT_COUNTS: TokenCounts = { prefillTokens: 128, decodeTokens: 32, trials: 1 };
/** llama.cpp: the usual 128-token prompt, and enough decode steps for a stable rate. */
export const LLAMA_CPP_DEFAULT_COUNTS: TokenCounts = { prefillTokens: 128, decodeTokens: 64, trials: 3 };

export interface SpeedOptions {
  /** Threads for both engines. Default: the CPU backend's (LLAMASCOPE_THREADS, else every core). */
  threads?: number;
  /** Our backend (default cpu). llama.cpp always runs on the CPU. */
  backend?: 'cpu' | 'webgpu';
  /** Our numeric modes, one measurement each (default llama.cpp, the mode that matches its arithmetic). */
  modes?: NumericMode[];
  ours?: Partial<TokenCounts>;
  /** false: measure ours alone. */
  llamaCpp?: Partial<TokenCounts> | false;
  /** A bandwidth measured earlier in this run (measured here when absent; null: none). */
  bandwidth?: MemoryBandwidth | null;
  /** Progress lines (the children's steps), e.g. to stderr. */
  onProgress?: (message: string) => void;
}

export interface EngineSpeed extends TokenCounts {
  description: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Weight bytes per decoded token x decode tokens/s, in 1e9 bytes/s. */
  decodeGBs: number;
  /** decodeGBs over the peak measured read bandwidth (null when none was measured). */
  bandwidthShare: number | null;
  loadMs: number;
  peakRssBytes: number;
  baselineRssBytes: number;
  /** peakRssBytes / the file's size. */
  peakRssPerFileByte: number;
}

export interface OurSpeed extends EngineSpeed {
  mode: NumericMode;
  /** Opening the file's header and directory. */
  openMs: number;
  /** `runWithCache` with every hook on the prefill prompt, against the plain prefill. */
  hooks: { runWithCacheMs: number; firstRunWithCacheMs: number; forwardMs: number; ratio: number };
}

/** ours / llama.cpp for one of our modes. */
export interface SpeedRatios {
  mode: NumericMode;
  prefill: number;
  decode: number;
  load: number;
  peakRss: number;
}

export interface SpeedReport {
  file: string;
  fileBytes: number;
  weightBytesPerToken: number;
  threads: number;
  bandwidth: MemoryBandwidth | null;
  ours: OurSpeed[];
  llamaCpp: EngineSpeed | null;
  /** Why llama.cpp's figures are missing (null when measured or not asked for). */
  llamaCppUnavailable: string | null;
  ratios: SpeedRatios[];
}

const PROMPT_TEXT =
  'The quick brown fox jumps over the lazy dog. A file system keeps data in blocks, and the kernel ' +
  'reads them into the page cache before a process sees them. ';

/** Threads a benchmark uses when none are given: the same number the CPU backend would use. */
export function benchThreads(): number {
  return defaultThreads();
}

/** Measure ours (each mode) and llama.cpp on one GGUF file; see the module comment. */
export async function measureSpeed(file: string, options: SpeedOptions = {}): Promise<SpeedReport> {
  const threads = options.threads ?? benchThreads();
  const ours = withDefaults(OUR_DEFAULT_COUNTS, options.ours);
  const theirs = options.llamaCpp === false ? null : withDefaults(LLAMA_CPP_DEFAULT_COUNTS, options.llamaCpp);
  const modes = options.modes ?? ['llama.cpp'];
  const report = (message: string) => options.onProgress?.(message);

  const gguf = openGGUF(file);
  let prompt: number[];
  let traffic: number;
  try {
    for (const [name, counts] of [['ours', ours], ['llama.cpp', theirs]] as const) {
      if (counts && ![counts.prefillTokens, counts.decodeTokens, counts.trials].every((n) => Number.isInteger(n) && n >= 1)) {
        throw new Error(`${name}: prefill tokens, decode tokens and trials must each be a whole number of at least 1 (got ${counts.prefillTokens}, ${counts.decodeTokens}, ${counts.trials})`);
      }
    }
    const longest = Math.max(ours.prefillTokens, theirs?.prefillTokens ?? 0);
    // llama.cpp's context gets 16 positions to spare (see speed-child.ts); ours needs one per token.
    const longestRun = Math.max(ours.prefillTokens + ours.decodeTokens + 1, theirs ? theirs.prefillTokens + theirs.decodeTokens + 16 : 0);
    const context = readHParams(gguf).contextLength;
    if (longestRun > context) throw new Error(`prompt and decoded tokens need ${longestRun} positions but ${file} holds ${context}; use fewer prefill or decode tokens`);
    prompt = benchPrompt(Tokenizer.fromGGUF(gguf), longest);
    traffic = weightBytesPerToken(gguf);
  } finally {
    gguf.close();
  }
  const fileBytes = fs.statSync(file).size;

  let bandwidth = options.bandwidth;
  if (bandwidth === undefined) {
    report(`memory bandwidth (1 GiB, ${threads === 1 ? '1 thread' : `1 and ${threads} threads`})`);
    bandwidth = await measureMemoryBandwidth({ threads: [...new Set([1, threads])] });
  }

  const rates = (raw: RawSpeed, counts: TokenCounts): EngineSpeed => {
    const decodeTokensPerSecond = counts.decodeTokens / (raw.decodeMs / 1000);
    const decodeGBs = (traffic * decodeTokensPerSecond) / 1e9;
    return {
      description: raw.description,
      ...counts,
      prefillTokensPerSecond: counts.prefillTokens / (raw.prefillMs / 1000),
      decodeTokensPerSecond,
      decodeGBs,
      bandwidthShare: bandwidth ? decodeGBs / bandwidth.peakGBs : null,
      loadMs: raw.loadMs,
      peakRssBytes: raw.peakRssBytes,
      baselineRssBytes: raw.baselineRssBytes,
      peakRssPerFileByte: raw.peakRssBytes / fileBytes,
    };
  };
  const job = (engine: SpeedJob['engine'], counts: TokenCounts): SpeedJob => ({
    engine,
    file: path.resolve(file),
    prompt: prompt.slice(0, counts.prefillTokens),
    decodeTokens: counts.decodeTokens,
    trials: counts.trials,
    threads,
  });

  let llamaCpp: EngineSpeed | null = null;
  let llamaCppUnavailable: string | null = null;
  if (theirs) {
    const out = await runChild(job('llama.cpp', theirs), (line) => report(`llama.cpp: ${line}`));
    if ('unavailable' in out) {
      llamaCppUnavailable = `llama.cpp's figures need node-llama-cpp and its prebuilt binaries (npm install node-llama-cpp); here: ${out.unavailable}`;
    } else {
      llamaCpp = rates(out.result, theirs);
    }
  }

  const oursByMode: OurSpeed[] = [];
  for (const mode of modes) {
    const out = await runChild({ ...job('ours', ours), mode, backend: options.backend ?? 'cpu' }, (line) => report(`ours (${mode}): ${line}`));
    if (!('result' in out)) throw new Error(`our measurement returned no result: ${JSON.stringify(out)}`);
    const raw = out.result;
    oursByMode.push({
      mode,
      ...rates(raw, ours),
      openMs: raw.openMs!,
      hooks: { runWithCacheMs: raw.runWithCacheMs!, firstRunWithCacheMs: raw.firstRunWithCacheMs!, forwardMs: raw.prefillMs, ratio: raw.runWithCacheMs! / raw.prefillMs },
    });
  }

  const ratios = llamaCpp
    ? oursByMode.map((o) => ({
        mode: o.mode,
        prefill: o.prefillTokensPerSecond / llamaCpp!.prefillTokensPerSecond,
        decode: o.decodeTokensPerSecond / llamaCpp!.decodeTokensPerSecond,
        load: o.loadMs / llamaCpp!.loadMs,
        peakRss: o.peakRssBytes / llamaCpp!.peakRssBytes,
      }))
    : [];
  return { file, fileBytes, weightBytesPerToken: traffic, threads, bandwidth, ours: oursByMode, llamaCpp, llamaCppUnavailable, ratios };
}

/** The given counts, the defaults for those left out or undefined. */
function withDefaults(defaults: TokenCounts, given: Partial<TokenCounts> = {}): TokenCounts {
  return {
    prefillTokens: given.prefillTokens ?? defaults.prefillTokens,
    decodeTokens: given.decodeTokens ?? defaults.decodeTokens,
    trials: given.trials ?? defaults.trials,
  };
}

/** BOS, then ordinary text repeated: `length` tokens that both tokenizers agree on. */
function benchPrompt(tokenizer: Tokenizer, length: number): number[] {
  const text = tokenizer.encode(PROMPT_TEXT, { addBos: false });
  const prompt = tokenizer.bos === null ? [] : [tokenizer.bos];
  while (prompt.length < length) prompt.push(...text.slice(0, length - prompt.length));
  return prompt;
}

const CHILD = path.join(__dirname, 'speed-child.ts');

/** Run one measurement in a child process (TypeScript through tsx's loader, as the CLI runs). */
function runChild(job: SpeedJob, onProgress: (line: string) => void): Promise<SpeedChildOutput> {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, CHILD, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let diagnostics = '';
    let pending = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith(PROGRESS)) onProgress(line.slice(PROGRESS.length));
        else diagnostics += `${line}\n`;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`measuring ${job.engine === 'ours' ? `ours (${job.mode} mode)` : 'llama.cpp'} on ${job.file} failed (exit ${code}):\n${(diagnostics + pending).trim()}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as SpeedChildOutput);
    });
  });
}

/** A readable table of one or more reports (one block per file), with the ratios under each. */
export function formatSpeedReports(reports: SpeedReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    const bandwidth = r.bandwidth ? `, memory read peak ${r.bandwidth.peakGBs.toFixed(1)} GB/s` : '';
    out.push(
      `${path.basename(r.file)}: ${mb(r.fileBytes)} MB file, ${mb(r.weightBytesPerToken)} MB of weights read per decoded token, ${r.threads} thread${r.threads === 1 ? '' : 's'}${bandwidth}`,
    );
    const header = ['engine', 'prefill', 'tok/s', 'decode', 'tok/s', 'GB/s', 'share', 'open ms', 'load s', 'peak RSS MB', 'RSS/file', 'runWithCache/forward'];
    const rows: string[][] = [];
    const engineRow = (name: string, e: EngineSpeed, open: string, hooks: string) => [
      name,
      String(e.prefillTokens),
      rate(e.prefillTokensPerSecond),
      String(e.decodeTokens),
      rate(e.decodeTokensPerSecond),
      e.decodeGBs.toFixed(2),
      e.bandwidthShare === null ? '-' : `${(100 * e.bandwidthShare).toFixed(e.bandwidthShare < 0.1 ? 1 : 0)}%`,
      open,
      (e.loadMs / 1000).toFixed(2),
      mb(e.peakRssBytes),
      e.peakRssPerFileByte.toFixed(2),
      hooks,
    ];
    if (r.llamaCpp) rows.push(engineRow('llama.cpp', r.llamaCpp, '-', '-'));
    for (const o of r.ours) rows.push(engineRow(`ours, ${o.mode} mode`, o, o.openMs.toFixed(1), o.hooks.ratio.toFixed(2)));
    for (const q of r.ratios) {
      rows.push([`ours/llama.cpp, ${q.mode}`, '', ratio(q.prefill), '', ratio(q.decode), '', '', '', ratio(q.load), ratio(q.peakRss), '', '']);
    }
    out.push(alignColumns(header, rows));
    for (const o of r.ours) out.push(`  ${o.description}; runWithCache's first call ${(o.hooks.firstRunWithCacheMs / 1000).toFixed(2)} s (heap growth), warm ${(o.hooks.runWithCacheMs / 1000).toFixed(2)} s`);
    if (r.llamaCpp) out.push(`  ${r.llamaCpp.description}`);
    if (r.llamaCppUnavailable) out.push(`  ${r.llamaCppUnavailable}`);
    out.push('');
  }
  out.push(
    'prefill/decode: tokens per timed run (best of trials); GB/s: weight bytes per decoded token x decode tok/s; share: of the memory read peak;',
    'peak RSS: the measuring process (Node included); runWithCache/forward: every hook captured vs the plain prefill, same prompt, both warm',
  );
  return out.join('\n');
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
const rate = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toPrecision(2));
const ratio = (x: number) => (x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));

function alignColumns(header: string[], rows: string[][]): string {
  const cells = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  // First column left-aligned (names), the numbers right-aligned.
  return cells.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}
