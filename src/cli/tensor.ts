import { openGGUF } from '../gguf';
import { tensorStats } from '../inspect/stats';
import type { Command } from './command';
import { float32Json, parseRange, preview, toJson } from './format';

export const tensor: Command = {
  summary: 'dequantized rows of one tensor (a row is ne0 consecutive values)',
  usage: 'llamascope tensor FILE NAME [--rows A:B] [--json]',
  positionals: 2,
  options: { rows: { type: 'string' }, json: { type: 'boolean' } },
  run([path, name], flags) {
    const file = openGGUF(path);
    try {
      const t = file.tensor(name);
      const n = file.rowCount(t);
      const [start, end] = flags.rows ? parseRange(String(flags.rows), n, '--rows') : [0, n];
      const values = file.readRows(t, start, end);
      const width = t.shape[0];
      const rows: Record<string, (number | string)[]> = {};
      for (let r = start; r < end; r++) {
        rows[r] = Array.from(values.subarray((r - start) * width, (r - start + 1) * width), float32Json);
      }
      if (flags.json) {
        console.log(toJson({ name: t.name, type: t.type.name, shape: t.shape, rows }));
        return 0;
      }
      const s = tensorStats(values, width);
      console.log(`${t.name}: ${t.type.name} [${t.shape.join(', ')}], rows ${start}:${end} of ${n}`);
      console.log(`min ${s.min}  max ${s.max}  mean ${s.mean}  rms ${s.rms}  non-finite ${s.nonFinite}`);
      for (const [r, v] of Object.entries(rows)) console.log(`row ${r}: ${preview(v, 8)}`);
      return 0;
    } finally {
      file.close();
    }
  },
};
