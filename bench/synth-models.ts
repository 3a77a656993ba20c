// Random-weight models for benchmarks at real sizes (TinyLlama's 1.1B weights), made by our own
// writer and kept in tmp/bench-models/ so that later runs reuse them.
// Run: node --import tsx bench/synth-models.ts SHAPE TYPE... [--seed N]
//      e.g. bench/synth-models.ts tinyllama Q4_0 Q8_0 Q4_K_M   (synthesizes each anew and times it)
// Other benches name a model as "SHAPE:TYPE" (tinyllama:Q4_0) and call `benchModel`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { synthesizeModel } from '../src/model/synth';

export const BENCH_MODELS_DIR = path.resolve(__dirname, '../tmp/bench-models');

export interface BenchModel {
  path: string;
  /** Seconds spent synthesizing it now; 0 when an earlier run's file was reused. */
  synthSeconds: number;
}

/** The path of the SHAPE model in TYPE, synthesized first when missing (or when `force`). */
export function benchModel(like: string, type: string, options: { seed?: number; force?: boolean } = {}): BenchModel {
  const seed = options.seed ?? 1;
  const file = path.join(BENCH_MODELS_DIR, `${like}-${type.toLowerCase()}-seed${seed}.gguf`);
  if (fs.existsSync(file) && !options.force) return { path: file, synthSeconds: 0 };
  fs.mkdirSync(BENCH_MODELS_DIR, { recursive: true });
  // Written under another name and renamed when complete, so an interrupted run leaves no model.
  const partial = `${file}.partial`;
  const start = performance.now();
  synthesizeModel(partial, like, {
    type,
    seed,
    onProgress: ({ done, total, tensor }) => process.stderr.write(`\r${like} ${type}: [${done}/${total}] ${tensor}`.padEnd(70)),
  });
  process.stderr.write('\n');
  fs.renameSync(partial, file);
  return { path: file, synthSeconds: (performance.now() - start) / 1000 };
}

/** A GGUF path, or "SHAPE:TYPE" for a synthesized model. */
export function resolveBenchModel(spec: string): string {
  const m = /^([a-z0-9_-]+):([A-Za-z0-9_]+)$/.exec(spec);
  return m && !fs.existsSync(spec) ? benchModel(m[1], m[2]).path : spec;
}

if (require.main === module) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string', default: '1' } } });
  const [like, ...types] = positionals;
  if (!like || types.length === 0) throw new Error('usage: node --import tsx bench/synth-models.ts SHAPE TYPE... [--seed N]');
  console.log(`synthesize ${like} (seed ${values.seed}), single thread (node ${process.version})`);
  console.log('type      seconds   file MB');
  for (const type of types) {
    const model = benchModel(like, type, { seed: Number(values.seed), force: true });
    console.log(`${type.padEnd(8)} ${model.synthSeconds.toFixed(1).padStart(8)}  ${(fs.statSync(model.path).size / 1e6).toFixed(0).padStart(8)}`);
  }
}
