import { openGGUF } from '../gguf';
import { blockReport, tokenScaleCorrelation, type RowScale } from '../inspect/block-report';
import type { Command } from './command';
import { UsageError, table, toJson } from './format';

export const scales: Command = {
  summary: "a quantized tensor's block scales across the tensor and per row, with the rows whose scales are extreme",
  usage: 'llamascope scales FILE TENSOR [--rows N] [--json]',
  positionals: 2,
  options: { json: { type: 'boolean' }, rows: { type: 'string' } },
  run([path, name], flags) {
    const extremeRows = flags.rows === undefined ? 5 : Number(flags.rows);
    if (!Number.isInteger(extremeRows) || extremeRows < 0) throw new UsageError(`--rows must be a whole number, got '${String(flags.rows)}'`);
    const file = openGGUF(path);
    try {
      const r = blockReport(file, name, { extremeRows });
      const perToken = r.smallestRows.some((s) => s.tokenType !== undefined) ? tokenScaleCorrelation(file, name) : undefined;
      if (flags.json) {
        // Per-row statistics only; per-block fields are in `llamascope blocks`.
        const { d: _d, min: _min, effectiveScales: _s, effectiveOffsets: _o, ...rest } = r;
        console.log(toJson({ ...rest, byTokenType: perToken }));
        return 0;
      }
      const g = (x: number) => x.toPrecision(4);
      const what = r.subBlocksPerBlock > 1 ? `${r.subBlocksPerBlock} sub-block scales (d·scale) per block` : 'one scale d per block';
      console.log(`${r.tensor}: ${r.type} [${r.shape.join(', ')}], ${r.rows} rows x ${r.blocksPerRow} blocks, ${what}`);
      console.log(`|scale| over the tensor: min ${g(r.whole.min)}, median ${g(r.whole.median)}, max ${g(r.whole.max)}; typical row (median of row medians) ${g(r.typicalRowMedian)}`);
      const withTokens = r.smallestRows.some((s) => s.token !== undefined);
      const rows = (list: RowScale[]) =>
        table(
          ['row', ...(withTokens ? ['token'] : []), 'median |scale|', 'mean', 'x typical'],
          list.map((s) => [s.row, ...(withTokens ? [JSON.stringify(s.token)] : []), g(s.median), g(s.mean), s.ratioToTypical.toFixed(3)]),
        );
      if (extremeRows > 0) {
        console.log(`\nrows with the smallest scales:\n${rows(r.smallestRows)}`);
        console.log(`\nrows with the largest scales:\n${rows(r.largestRows)}`);
      }
      if (perToken) {
        console.log(`\nmean |scale| of a row, by token type (correlation with being a non-normal token: ${perToken.correlation.toFixed(3)}):`);
        console.log(table(['token type', 'tokens', 'mean', 'median'], perToken.byTokenType.map((t) => [t.typeName, t.tokens, g(t.meanRowScale), g(t.medianRowScale)])));
      }
      console.log();
      if (r.observations.length === 0) console.log('No row is more than 10x off the typical row, and no scale is zero, non-finite or f16-subnormal.');
      for (const o of r.observations) console.log(`- ${o}`);
      return 0;
    } finally {
      file.close();
    }
  },
};
