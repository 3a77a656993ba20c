import type { Command } from './command';
import { MODEL_FLAGS, loadModel, numericMode } from './model-options';
import { table, toJson, UsageError } from './format';
import { readEvalCallback } from '../inspect/eval-callback';
import { compareWithDump } from '../inspect/compare';

export const compare: Command = {
  summary: "compare our forward pass with a llama-eval-callback dump, node by node, and name the first divergence",
  usage: 'llamascope compare FILE --eval-callback DUMP.txt --prompt TEXT [--json] [--mode float|llama.cpp] [--backend cpu|webgpu]',
  positionals: 1,
  options: { 'eval-callback': { type: 'string' }, prompt: { type: 'string' }, json: { type: 'boolean' }, ...MODEL_FLAGS },
  async run([path], flags) {
    if (typeof flags['eval-callback'] !== 'string' || typeof flags.prompt !== 'string') throw new UsageError('give --eval-callback DUMP.txt and --prompt TEXT');
    const dump = readEvalCallback(flags['eval-callback']);
    const model = await loadModel(path, flags.backend, Boolean(flags.json));
    const tokens = dump.promptTokens ?? model.tokenizer.encode(flags.prompt);
    const r = await compareWithDump(model, dump, tokens, { mode: numericMode(flags.mode ?? 'llama.cpp') });
    const rows = r.comparisons.map((c) => ({ position: c.position, node: c.name, hook: r.hookOf.get(c.position), op: dump.nodes[c.position].op, relativeError: c.relativeError, maxAbsError: c.maxAbsError, matches: c.matches }));
    const first = r.firstDivergent;
    if (flags.json) {
      console.log(toJson({ sumCovers: dump.sumCovers, nodes: rows, firstDivergence: first ? { ...rows.find((x) => x.position === first.position), element: first.firstDivergence } : null }));
    } else {
      console.log(table(['#', 'node', 'hook', 'op', 'rel. error', 'max |err|', ''], rows.map((x) => [x.position, x.node, x.hook ?? '', x.op, x.relativeError.toExponential(2), x.maxAbsError.toExponential(2), x.matches ? 'ok' : 'DIVERGES'])));
      console.log(first ? `\nfirst divergence: node #${first.position} ${first.name} (${dump.nodes[first.position].op}) = ${r.hookOf.get(first.position)}, relative error ${first.relativeError.toExponential(2)}` : `\nall ${rows.length} compared nodes match within the dump's print precision`);
    }
    return 0;
  },
};
