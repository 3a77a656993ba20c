import { openGGUF } from '../gguf';
import { quantError } from '../inspect/quant-error';
import type { Command } from './command';
import { table, toJson } from './format';

export const quantErrorCommand: Command = {
  summary: 'what quantizing one tensor to each type does to it: RMS error per row and block, relative to the values',
  usage: "llamascope quant-error FILE TENSOR [--types Q8_0,Q4_K,...] [--json]   (default: every weight type)",
  positionals: 2,
  options: { json: { type: 'boolean' }, types: { type: 'string' } },
  run([path, name], flags) {
    const types = flags.types === undefined ? undefined : String(flags.types).split(',').map((t) => t.trim()).filter((t) => t !== '');
    const file = openGGUF(path);
    try {
      const r = quantError(file, name, { types });
      if (flags.json) {
        // Per-row errors only; per-block errors are in the library's report (quantError).
        console.log(toJson({ ...r, byType: r.byType.map(({ perBlock: _b, ...q }) => q) }));
        return 0;
      }
      const g = (x: number) => x.toPrecision(4);
      console.log(`${r.tensor}: ${r.sourceType} [${r.shape.join(', ')}], RMS ${g(r.rms)}`);
      console.log(
        table(
          ['type', 'bits/weight', 'relative RMS error', 'RMS error', 'max |error|', 'worst row (relative)'],
          r.byType.map((q) => [q.type, q.bitsPerWeight, g(q.relativeRmsError), g(q.rmsError), g(q.maxAbsError), q.worstRows[0] ? `${q.worstRows[0].row} (${g(q.worstRows[0].relative)})` : '']),
        ),
      );
      for (const s of r.skipped) console.log(`${s.type}: skipped, ${s.reason}`);
      console.log();
      for (const o of r.observations) console.log(`- ${o}`);
      return 0;
    } finally {
      file.close();
    }
  },
};
