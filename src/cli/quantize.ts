import { quantizeFile, quantizeTargets } from '../gguf/quantize';
import type { Command } from './command';

export const quantize: Command = {
  summary: 'every 2-D weight to TYPE, 1-D tensors kept F32 (llama-quantize --pure)',
  usage: `llamascope quantize IN OUT TYPE    (TYPE: ${quantizeTargets().join(', ')})`,
  positionals: 3,
  options: { quiet: { type: 'boolean' } },
  run([input, output, type], { quiet }) {
    const report = quantizeFile(input, output, type, {
      onProgress: (done, total, t) => {
        if (!quiet) process.stderr.write(`\r[${done}/${total}] ${t.name} ${t.from} -> ${t.to}`.padEnd(70));
      },
    });
    if (!quiet) process.stderr.write('\n');
    const bytesIn = report.reduce((n, t) => n + t.bytesIn, 0);
    const bytesOut = report.reduce((n, t) => n + t.bytesOut, 0);
    const fallbacks = report.filter((t) => t.to !== type.toUpperCase() && t.to !== 'F32');
    for (const f of fallbacks) console.error(`note: ${f.name} written as ${f.to}: its rows do not split into ${type.toUpperCase()} blocks`);
    console.log(`${output}: ${report.length} tensors, ${bytesIn} -> ${bytesOut} tensor bytes`);
    return 0;
  },
};
