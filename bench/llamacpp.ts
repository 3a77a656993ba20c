// llama.cpp's speed alone (through node-llama-cpp), with the memory bandwidth measured in the same
// run: the yardstick. bench/generate.ts measures ours beside it; src/inspect/speed.ts does both.
// Run: node --import tsx bench/llamacpp.ts MODEL... [--threads N] [--prefill 128] [--decode 64] [--trials 3]
//      MODEL is a GGUF path or SHAPE:TYPE (tinyllama:Q4_0), synthesized by bench/synth-models.ts.
import { parseArgs } from 'node:util';
import { benchThreads, formatSpeedReports, measureSpeed } from '../src/inspect/speed';
import { formatBandwidth, measureMemoryBandwidth } from '../src/inspect/memory-bandwidth';
import { resolveBenchModel } from './synth-models';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { threads: { type: 'string' }, prefill: { type: 'string' }, decode: { type: 'string' }, trials: { type: 'string' } },
  });
  if (positionals.length === 0) throw new Error('usage: node --import tsx bench/llamacpp.ts MODEL... [--threads N] [--prefill 128] [--decode 64] [--trials 3]');
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const threads = number(values.threads) ?? benchThreads();
  const bandwidth = await measureMemoryBandwidth({ threads: [...new Set([1, threads])] });
  console.log(`${formatBandwidth(bandwidth)}\n`);
  const reports = [];
  for (const model of positionals.map(resolveBenchModel)) {
    const llamaCpp = { prefillTokens: number(values.prefill), decodeTokens: number(values.decode), trials: number(values.trials) };
    reports.push(await measureSpeed(model, { threads, bandwidth, modes: [], llamaCpp, onProgress: (m) => process.stderr.write(`${m}\n`) }));
  }
  console.log(formatSpeedReports(reports));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
