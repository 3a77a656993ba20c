import * as fs from 'node:fs';
import type { Command } from './command';
import { MODEL_FLAGS, loadModel, numericMode } from './model-options';
import { table, toJson, UsageError } from './format';
import { readEvalCallback } from '../inspect/eval-callback';
import { compareWithDump } from '../inspect/compare';
import { captureTrace, readTrace, type Trace } from '../inspect/trace';
import { compareTraces } from '../inspect/trace-compare';

export const compare: Command = {
  summary: 'compare our forward pass node by node with a llama-eval-callback dump, or hook by hook with another run (OTHER and FILE: a GGUF model or a `trace` file), and name the first divergence',
  usage: 'llamascope compare FILE (--eval-callback DUMP.txt | --against OTHER [--tolerance X] [--against-mode M] [--against-backend B]) [--prompt TEXT] [--json] [--mode float|llama.cpp] [--backend cpu|webgpu]',
  positionals: 1,
  options: {
    'eval-callback': { type: 'string' },
    against: { type: 'string' },
    prompt: { type: 'string' },
    tolerance: { type: 'string' },
    'against-mode': { type: 'string' },
    'against-backend': { type: 'string' },
    json: { type: 'boolean' },
    ...MODEL_FLAGS,
  },
  async run([path], flags) {
    if ((typeof flags['eval-callback'] === 'string') === (typeof flags.against === 'string')) {
      throw new UsageError('give --eval-callback DUMP.txt (compare with llama.cpp) or --against OTHER (compare with another model or trace), one of them');
    }
    return typeof flags.against === 'string' ? againstRun(path, flags.against, flags) : againstDump(path, flags);
  },
};

type Flags = Record<string, string | boolean | undefined>;

/** The table both forms print: their own leading columns, then the errors and the verdict. */
function errorTable(header: string[], rows: { cells: (string | number)[]; relativeError: number; maxAbsError: number; matches: boolean }[]): string {
  return table(
    [...header, 'rel. error', 'max |err|', ''],
    rows.map((r) => [...r.cells, r.relativeError.toExponential(2), r.maxAbsError.toExponential(2), r.matches ? 'ok' : 'DIVERGES']),
  );
}

async function againstDump(path: string, flags: Flags): Promise<number> {
  if (typeof flags.prompt !== 'string') throw new UsageError('give --prompt TEXT with --eval-callback');
  if (flags.tolerance !== undefined || flags['against-mode'] !== undefined || flags['against-backend'] !== undefined) {
    throw new UsageError('--tolerance, --against-mode and --against-backend go with --against; a dump is compared within its print precision');
  }
  const dump = readEvalCallback(flags['eval-callback'] as string);
  const model = await loadModel(path, flags.backend, Boolean(flags.json));
  const tokens = dump.promptTokens ?? model.tokenizer.encode(flags.prompt);
  const r = await compareWithDump(model, dump, tokens, { mode: numericMode(flags.mode ?? 'llama.cpp') });
  const rows = r.comparisons.map((c) => ({ position: c.position, node: c.name, hook: r.hookOf.get(c.position), op: dump.nodes[c.position].op, relativeError: c.relativeError, maxAbsError: c.maxAbsError, matches: c.matches }));
  const first = r.firstDivergent;
  if (flags.json) {
    console.log(toJson({ sumCovers: dump.sumCovers, nodes: rows, firstDivergence: first ? { ...rows.find((x) => x.position === first.position), element: first.firstDivergence } : null }));
  } else {
    console.log(errorTable(['#', 'node', 'hook', 'op'], rows.map((x) => ({ ...x, cells: [x.position, x.node, x.hook ?? '', x.op] }))));
    console.log(first ? `\nfirst divergence: node #${first.position} ${first.name} (${dump.nodes[first.position].op}) = ${r.hookOf.get(first.position)}, relative error ${first.relativeError.toExponential(2)}` : `\nall ${rows.length} compared nodes match within the dump's print precision`);
  }
  return 0;
}

/** FILE against OTHER, each a GGUF model (run on the prompt) or a trace file. */
async function againstRun(path: string, other: string, flags: Flags): Promise<number> {
  let tolerance: number | undefined;
  if (flags.tolerance !== undefined) {
    tolerance = Number(flags.tolerance);
    if (!(tolerance >= 0)) throw new UsageError(`--tolerance must be a number >= 0 (a relative difference, e.g. 0.1 for 10 %), got '${String(flags.tolerance)}'`);
  }
  const sides = [
    { file: path, mode: flags.mode, backend: flags.backend },
    { file: other, mode: flags['against-mode'] ?? flags.mode, backend: flags['against-backend'] ?? flags.backend },
  ].map((s) => ({ ...s, trace: isTraceFile(s.file) ? readTrace(s.file) : undefined }));
  // A trace file that kept its tokens gives the prompt of a model run against it.
  const stored = sides.flatMap((s) => (s.trace?.tokens ? [{ file: s.file, tokens: s.trace.tokens }] : []))[0];
  const traces: Trace[] = [];
  for (const side of sides) {
    if (side.trace) {
      traces.push(side.trace);
      continue;
    }
    const model = await loadModel(side.file, side.backend, Boolean(flags.json));
    const tokens = typeof flags.prompt === 'string' ? model.tokenizer.encode(flags.prompt) : stored?.tokens;
    if (!tokens) throw new UsageError(`give --prompt TEXT to run ${side.file}`);
    if (stored && tokens.join() !== stored.tokens.join()) {
      throw new UsageError(`${stored.file} was traced on tokens [${stored.tokens.join(', ')}], --prompt gives [${tokens.join(', ')}]; leave out --prompt to run ${side.file} on the trace's tokens`);
    }
    traces.push(await captureTrace(model, tokens, { mode: numericMode(side.mode) }));
  }
  const r = await compareTraces(traces[0], traces[1], { tolerance });
  const rows = r.comparisons.map((c) => ({ position: c.position, hook: c.name, shape: c.shape, rms: c.rms, relativeError: c.relativeError, maxAbsError: c.maxAbsError, divergent: c.divergentCount, matches: c.matches }));
  const first = r.firstDivergent;
  const [a, b] = r.sources.map((s, i) => s ?? sides[i].file);
  if (flags.json) {
    console.log(toJson({ sources: { a, b }, tolerance: r.tolerance, hooks: rows, firstDivergence: first ? { ...rows.find((x) => x.position === first.position), element: first.firstDivergence } : null, onlyIn: { a: r.onlyIn[0], b: r.onlyIn[1] } }));
    return 0;
  }
  console.log(`a: ${a}\nb: ${b}\n`);
  console.log(errorTable(['#', 'hook', 'shape'], rows.map((x) => ({ ...x, cells: [x.position, x.hook, `[${x.shape.join(', ')}]`] }))));
  for (const [side, names] of [['a', r.onlyIn[0]], ['b', r.onlyIn[1]]] as const) {
    if (names.length > 0) console.log(`\nonly in ${side} (not compared): ${names.join(', ')}`);
  }
  const e = first?.firstDivergence;
  console.log(
    first && e
      ? `\nfirst divergence: hook #${first.position} ${first.name}, ${first.divergentCount} of ${first.compared} values differ by more than ${r.tolerance} relative (to |a|, at least the RMS ${first.rms.toExponential(2)}); first at [${e.index.join(', ')}] (innermost first): a ${e.expected}, b ${e.actual}`
      : `\nall ${rows.length} compared hooks agree within ${r.tolerance} relative (to each value, at least its activation's RMS)`,
  );
  return 0;
}

/** Arrow IPC files (what `llamascope trace` writes) begin with "ARROW1"; anything else is taken for a model. */
function isTraceFile(file: string): boolean {
  const head = Buffer.alloc(6);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 6, 0);
  } finally {
    fs.closeSync(fd);
  }
  return head.toString('latin1') === 'ARROW1';
}
