import { openGGUF } from '../gguf';
import { blockTable } from '../inspect/blocks';
import type { Command } from './command';
import { float32Json, parseRange, preview, table, toJson } from './format';
import * as fs from 'node:fs';
import { tableToIPC } from 'apache-arrow';

export const blocks: Command = {
  summary: "one row per quantization block: scales, mins and quant codes",
  usage: 'llamascope blocks FILE NAME [--rows A:B] [--json] [--arrow OUT.arrow]',
  positionals: 2,
  options: { rows: { type: 'string' }, json: { type: 'boolean' }, arrow: { type: 'string' } },
  run([path, name], flags) {
    const file = openGGUF(path);
    try {
      const t = file.tensor(name);
      const rows = flags.rows ? parseRange(String(flags.rows), file.rowCount(t), '--rows') : undefined;
      const tbl = blockTable(file, t, { rows });
      if (flags.arrow) {
        fs.writeFileSync(String(flags.arrow), tableToIPC(tbl, 'file'));
        console.error(`wrote ${tbl.numRows} blocks of ${t.name} to ${flags.arrow}`);
      }
      const names = tbl.schema.fields.map((f) => f.name);
      const records = Array.from({ length: tbl.numRows }, (_, i) =>
        Object.fromEntries(names.map((n) => [n, cell(tbl.getChild(n)!.get(i))])),
      );
      if (flags.json) {
        console.log(toJson({ name: t.name, type: t.type.name, shape: t.shape, blockSize: t.type.blockSize, blockBytes: t.type.typeSize, blocks: records }));
      } else if (!flags.arrow) {
        console.log(`${t.name}: ${t.type.name}, ${tbl.numRows} blocks of ${t.type.blockSize} values in ${t.type.typeSize} bytes`);
        console.log(table(names, records.map((r) => names.map((n) => (Array.isArray(r[n]) ? preview(r[n], 8) : String(r[n]))))));
      }
      return 0;
    } finally {
      file.close();
    }
  },
};

function cell(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? v : float32Json(v);
  if (v && typeof (v as { toArray?: unknown }).toArray === 'function') {
    return Array.from((v as { toArray(): ArrayLike<number> }).toArray(), (x) => (Number.isInteger(x) ? x : float32Json(x)));
  }
  return v;
}
