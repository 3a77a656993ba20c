// Generation speed, ours against llama.cpp (node-llama-cpp) on the same files, the same prompt
// tokens and the same thread count, all measured in one run with the memory bandwidth: prefill
// and decode tok/s, decode GB/s and its share of the bandwidth, open and load times, peak RSS
// against the file size, runWithCache's cost, and the ratios ours / llama.cpp.
// Run: npm run bench:generate [-- MODEL...] [llamascope bench's flags: --threads N --mode llama.cpp,float
//      --prefill N --decode N --ours-prefill N --ours-decode N --trials N --backend cpu|webgpu --json]
//      MODEL is a GGUF path or SHAPE:TYPE; default the TinyLlama-shaped models in Q4_0, Q8_0 and
//      Q4_K_M (synthesized into tmp/bench-models/ when missing, see bench/synth-models.ts).
// The measuring lives in src/inspect/speed.ts, shared with `llamascope bench`.
import { parseArgs } from 'node:util';
import { bench, speedOptions } from '../src/cli/bench';
import { benchThreads, formatSpeedReports, measureSpeed, type SpeedReport } from '../src/inspect/speed';
import { formatBandwidth, measureMemoryBandwidth } from '../src/inspect/memory-bandwidth';
import { resolveBenchModel } from './synth-models';

const DEFAULT_MODELS = ['tinyllama:Q4_0', 'tinyllama:Q8_0', 'tinyllama:Q4_K_M'];

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: bench.options });
  const options = speedOptions(values as Record<string, string | boolean | undefined>);
  const models = (positionals.length > 0 ? positionals : DEFAULT_MODELS).map(resolveBenchModel);
  // One thread count for the bandwidth, our backend and llama.cpp.
  const threads = options.threads ?? benchThreads();
  process.stderr.write(`memory bandwidth (1 and ${threads} threads)\n`);
  const bandwidth = await measureMemoryBandwidth({ threads: [...new Set([1, threads])] });
  const reports: SpeedReport[] = [];
  for (const model of models) {
    process.stderr.write(`${model}\n`);
    reports.push(await measureSpeed(model, { ...options, threads, bandwidth, onProgress: (m) => process.stderr.write(`  ${m}\n`) }));
  }
  if (values.json) console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), bandwidth, reports }));
  else console.log(`generation speed, ours vs llama.cpp (node ${process.version}, ${new Date().toISOString().slice(0, 10)})\n${formatBandwidth(bandwidth)}\n\n${formatSpeedReports(reports)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
