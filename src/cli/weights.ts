import { openGGUF } from '../gguf';
import { weightReport } from '../inspect/weight-report';
import type { Command } from './command';
import { UsageError, table, toJson } from './format';

export const weights: Command = {
  summary: 'statistics of every tensor beside what is typical for its kind in the same file, with what stands out',
  usage: 'llamascope weights FILE [--factor F] [--json]',
  positionals: 1,
  options: { json: { type: 'boolean' }, factor: { type: 'string' } },
  run([path], flags) {
    const factor = flags.factor === undefined ? undefined : Number(flags.factor);
    if (factor !== undefined && !(factor > 1)) throw new UsageError(`--factor must be a number above 1, got '${String(flags.factor)}'`);
    const file = openGGUF(path);
    try {
      const report = weightReport(file, { factor });
      if (flags.json) {
        console.log(toJson(report));
        return 0;
      }
      const g = (x: number) => x.toPrecision(4);
      console.log(
        table(
          ['tensor', 'type', 'shape', 'rms', 'mean', 'min', 'max', 'rms / typical', 'typical: median of'],
          report.tensors.map((s) => {
            const typical = report.typical[s.name];
            return [s.name, s.type, `[${s.shape.join(', ')}]`, g(s.rms), g(s.mean), g(s.min), g(s.max), typical ? (s.rms / typical.medianRms).toFixed(2) : '-', typical?.group ?? '(no peers in this file)'];
          }),
        ),
      );
      console.log();
      for (const u of report.undecoded) console.log(`${u.tensor}: ${u.type}, which llamascope cannot decode yet; left out`);
      if (report.observations.length === 0) console.log(`No tensor or row is more than ${factor ?? 3}x off what is typical for its kind in this file, and no value is NaN or infinite.`);
      for (const o of report.observations) console.log(`- ${o.text}`);
      return 0;
    } finally {
      file.close();
    }
  },
};
