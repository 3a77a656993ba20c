import { synthesizeModel } from '../model/synth';
import { NAMED_SHAPES } from '../model/shapes';
import { fileTypeNames } from '../model/file-types';
import type { Command } from './command';
import { UsageError } from './format';

export const synth: Command = {
  summary: 'write a random-weight LLaMA model of a named shape, directly in TYPE',
  usage: `llamascope synth OUT --like ${Object.keys(NAMED_SHAPES).join('|')} --type TYPE [--seed N] [--quiet]    (TYPE: ${fileTypeNames().join(', ')})`,
  positionals: 1,
  options: { like: { type: 'string' }, type: { type: 'string' }, seed: { type: 'string' }, quiet: { type: 'boolean' } },
  run([out], { like, type, seed, quiet }) {
    if (typeof like !== 'string') throw new UsageError('--like SHAPE is required');
    if (typeof type !== 'string') throw new UsageError('--type TYPE is required');
    if (seed !== undefined && !/^\d+$/.test(String(seed))) throw new UsageError(`--seed must be a non-negative integer, got '${String(seed)}'`);
    const start = performance.now();
    const result = synthesizeModel(out, like, {
      type,
      seed: seed === undefined ? undefined : Number(seed),
      onProgress: ({ done, total, tensor, type: written }) => {
        if (!quiet) process.stderr.write(`\r[${done}/${total}] ${tensor} ${written}`.padEnd(60));
      },
    });
    if (!quiet) process.stderr.write('\n');
    const bytes = result.tensors.reduce((n, t) => n + t.bytes, 0);
    const counts = new Map<string, number>();
    for (const t of result.tensors) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
    const mix = [...counts].map(([t, n]) => `${t} x${n}`).join(', ');
    console.log(`${out}: ${like} shape, ${result.tensors.length} tensors (${mix}), ${bytes} tensor bytes, ${((performance.now() - start) / 1000).toFixed(1)} s`);
    return 0;
  },
};
