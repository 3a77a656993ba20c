import type { Command } from './command';
import { numericMode } from './model-options';
import { toJson, UsageError } from './format';
import { measureSpeed, formatSpeedReports, type SpeedOptions, type TokenCounts } from '../inspect/speed';

export const bench: Command = {
  summary: 'prefill and decode tokens/s, GB/s and peak RSS of ours and of llama.cpp (node-llama-cpp) on the same file, in one run, with the ratios',
  usage: 'llamascope bench FILE [--backend cpu|webgpu] [--threads N] [--mode llama.cpp,float] [--prefill N] [--decode N] [--ours-prefill N] [--ours-decode N] [--trials N] [--json]',
  positionals: 1,
  options: {
    backend: { type: 'string' },
    threads: { type: 'string' },
    mode: { type: 'string' },
    prefill: { type: 'string' },
    decode: { type: 'string' },
    'ours-prefill': { type: 'string' },
    'ours-decode': { type: 'string' },
    trials: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run([file], flags) {
    const report = await measureSpeed(file, { ...speedOptions(flags), onProgress: (message) => process.stderr.write(`${message}\n`) });
    console.log(flags.json ? toJson(report) : formatSpeedReports([report]));
    return 0;
  },
};

/** The measurement options the flags ask for (bench/generate.ts takes the same flags). */
export function speedOptions(flags: Record<string, string | boolean | undefined>): SpeedOptions {
  const count = (name: string): number | undefined => {
    const v = flags[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number of at least 1, got '${String(v)}'`);
    return n;
  };
  const backend = flags.backend ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'webgpu') throw new UsageError(`--backend must be cpu or webgpu, got '${String(backend)}'`);
  const both: Partial<TokenCounts> = { prefillTokens: count('prefill'), decodeTokens: count('decode'), trials: count('trials') };
  return {
    threads: count('threads'),
    backend,
    modes: [...new Set(String(flags.mode ?? 'llama.cpp').split(','))].map(numericMode),
    llamaCpp: both,
    ours: { ...both, prefillTokens: count('ours-prefill') ?? both.prefillTokens, decodeTokens: count('ours-decode') ?? both.decodeTokens },
  };
}
