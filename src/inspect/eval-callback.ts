// Reading what llama.cpp's `llama-eval-callback` prints: one block per graph node with its name, op,
// sources and shape, the first and last few values along every dimension, and a sum.
//
// The text comes from llama.cpp's printing code, in three generations we read alike:
//   1. examples/eval-callback/eval-callback.cpp until August 2025 (our references, llama.cpp
//      c392e50): `ggml_debug:` headers, values indented to column 37, `sum` accumulated inside
//      the printing loop, so it covers only the printed values;
//   2. the same layout after llama.cpp PR #15637 (2025-08-28), which sums the whole tensor first;
//   3. common/debug.cpp (`common_debug_cb_eval:` headers, 4-space indents, whole-tensor sum).
// The layout therefore does not tell generations 1 and 2 apart; the sums do (see `detectSumCoverage`).
// Print rule, the same in all three: along each dimension of size ne > 2n only indices 0..n-1 and
// ne-n..ne-1 are printed (n = 3), the skipped middle shown as "...". Values use printf("%12.4f").
// Dimensions are innermost first, as in GGUF; each i3 slice is followed by a `sum =` line.

import * as fs from 'node:fs';
import { ErrorTally, type ElementDivergence } from './error-tally';

export type { ElementDivergence };

/** Index of one printed value: [i0, i1, i2, i3], innermost first. */
export type NodeIndex = [number, number, number, number];

export interface PrintedValue {
  index: NodeIndex;
  value: number;
}

export interface EvalCallbackSource {
  name: string;
  /** ne of the source as printed, innermost first; absent when llama.cpp's 128-byte buffer cut the text. */
  shape?: number[];
}

export interface EvalCallbackNode {
  /** Position of this node in the dump (0-based); names repeat (`Qcur-0` is printed after MUL_MAT and after ROPE). */
  position: number;
  /** 1-based line of the header in the text. */
  line: number;
  name: string;
  /** ggml type name as printed: f32, f16, q8_0, ... */
  type: string;
  /** ggml op as printed: MUL_MAT, RMS_NORM, GET_ROWS, ... (unary ops by their own name, e.g. SILU). */
  op: string;
  sources: EvalCallbackSource[];
  /** ne, innermost first (4 entries). */
  shape: NodeIndex;
  /** Every printed value with its index; empty for quantized nodes, whose values llama.cpp does not print. */
  printed: PrintedValue[];
  /** One `sum =` per i3 slice, in order (see EvalCallbackDump.sumCovers for what they add up). */
  sums: number[];
}

/** What a dump's `sum =` lines add up. */
export type SumCoverage = 'printed-values' | 'whole-tensor';

export interface EvalCallbackDump {
  nodes: EvalCallbackNode[];
  /** 'column-37': values indented to column 37 (until 2025); 'indented': 4-space indents (common/debug.cpp). */
  layout: 'column-37' | 'indented';
  sumCovers: SumCoverage;
  /** Why sumCovers was decided so, in words. */
  sumEvidence: string;
  /** The prompt's token ids, when the dump includes llama.cpp's "number of input tokens" lines (they go to stderr). */
  promptTokens?: number[];
  /** Text the parser set aside (e.g. a node cut off at the end of the text), each with its line. */
  warnings: string[];
}

/** What printf("%12.4f") leaves of a value: it is rounded to 4 decimals. */
export const PRINT_RESOLUTION = 1e-4;

const HEADER = /^([A-Za-z_]\w*): +(.+?) = \(([A-Za-z0-9_]+)\) +([A-Z0-9_]+)\((.*)\}\) = \{(\d+(?:, \d+)*)\}\s*$/;
const SOURCES = /^(?:(.*?\{[\d, ]*\}))?, (.*)$/;
const SOURCE = /^(.*)\{(\d+(?:, \d+)*)\}$/;
const SUM = /^sum = (\S+)$/;
const TOKEN_COUNT = /^number of input tokens = (\d+)\s*$/;
const TOKEN = /^\s+(-?\d+)\s*$/;

const ELIDED = Symbol('elided');
type Nested = (Nested | number | typeof ELIDED)[];

export function readEvalCallback(path: string): EvalCallbackDump {
  return parseEvalCallback(fs.readFileSync(path, 'utf8'));
}

export function parseEvalCallback(text: string): EvalCallbackDump {
  const lines = text.split(/\r?\n/);
  const nodes: EvalCallbackNode[] = [];
  const warnings: string[] = [];
  let promptTokens: number[] | undefined;
  let layout: EvalCallbackDump['layout'] | undefined;

  // The node being read: its header, the nested lists of its current i3 slice, and finished slices.
  let node: { header: Omit<EvalCallbackNode, 'printed' | 'sums'>; slices: Nested[]; sums: number[]; stack: Nested[] } | undefined;
  const finish = (at: number) => {
    if (!node) return;
    const { header, slices, sums, stack } = node;
    node = undefined;
    // A header without values (llama.cpp prints none for quantized types) and complete values
    // without a sum line are kept; values cut off are not.
    if (stack.length > 0 || (sums.length !== 0 && sums.length !== slices.length)) {
      warnings.push(`line ${at}: the values of node '${header.name}' (line ${header.line}) end before its closing brackets and sum; the node is left out`);
      return;
    }
    nodes.push({ ...header, printed: slices.length > 0 ? indexValues(header, slices) : [], sums });
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const trimmed = raw.trim();
    const header = HEADER.exec(raw);
    if (header) {
      finish(i + 1);
      node = { header: parseHeader(header, nodes.length, i + 1), slices: [], sums: [], stack: [] };
      continue;
    }
    const tokenCount = TOKEN_COUNT.exec(trimmed);
    if (tokenCount) {
      promptTokens = [];
      for (let k = 0; k < Number(tokenCount[1]) && TOKEN.test(lines[i + 1] ?? ''); k++) promptTokens.push(Number(lines[++i].trim()));
      continue;
    }
    if (!node || trimmed === '') continue; // log lines between nodes (model loading, timings)
    const stack = node.stack;
    if (trimmed === '[') {
      layout ??= raw.indexOf('[') >= 37 ? 'column-37' : 'indented';
      stack.push([]);
    } else if (trimmed === '...,') {
      stack[stack.length - 1]?.push(ELIDED);
    } else if (trimmed === '],' || trimmed === ']') {
      const done = stack.pop();
      if (!done) throw new Error(`line ${i + 1}: a closing bracket in node '${node.header.name}' that opens nowhere; the dump is not llama-eval-callback output`);
      if (stack.length > 0) stack[stack.length - 1].push(done);
      else node.slices.push(done);
    } else if (trimmed.startsWith('[') && /\],?$/.test(trimmed)) {
      stack[stack.length - 1]?.push(parseRow(trimmed, i + 1));
    } else {
      const sum = SUM.exec(trimmed);
      if (sum) {
        node.sums.push(parseNumber(sum[1], i + 1));
        if (node.sums.length === node.header.shape[3]) finish(i + 1);
      } else {
        // Anything else ends the node's block: stderr interleaved into the capture, or the end of it.
        finish(i + 1);
      }
    }
  }
  finish(lines.length);
  if (nodes.length === 0) {
    throw new Error("found no node headers like 'ggml_debug: NAME = (f32) OP(...) = {ne0, ne1, ne2, ne3}': is this the stdout of llama-eval-callback?");
  }
  const coverage = detectSumCoverage(nodes);
  return { nodes, layout: layout ?? 'column-37', ...coverage, promptTokens, warnings };
}

function parseHeader(m: RegExpExecArray, position: number, line: number): Omit<EvalCallbackNode, 'printed' | 'sums'> {
  const shape = m[6].split(', ').map(Number);
  if (shape.length !== 4) throw new Error(`line ${line}: node '${m[2].trim()}' has ${shape.length} dimensions; llama-eval-callback prints 4`);
  const sources: EvalCallbackSource[] = [];
  const split = SOURCES.exec(m[5]);
  for (const text of split ? [split[1] ?? '', split[2]] : [m[5]]) {
    if (text === '') continue;
    const s = SOURCE.exec(text);
    sources.push(s ? { name: s[1], shape: s[2].split(', ').map(Number) } : { name: text });
  }
  return { position, line, name: m[2].trim(), type: m[3], op: m[4], sources, shape: shape as NodeIndex };
}

/** "[      0.0177,       0.0330, ...,      -0.0343],"  or the newer "[ ...,    ...,   ... ],". */
function parseRow(text: string, line: number): Nested {
  const inner = text.slice(text.indexOf('[') + 1, text.lastIndexOf(']'));
  return inner
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => (t === '...' ? ELIDED : parseNumber(t, line)));
}

/** printf's %f output, including glibc's nan, -nan, inf and -inf. */
function parseNumber(text: string, line: number): number {
  const lower = text.toLowerCase();
  if (lower === 'nan' || lower === '-nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`line ${line}: '${text}' is not a number as printf prints one`);
  return v;
}

/**
 * The indices along one dimension that a list of printed entries stands for: entries before "..."
 * are 0, 1, ..., entries after it the last ones. Without "..." the list must cover the dimension.
 */
function positions(entries: Nested, size: number, what: string): number[] {
  const cut = entries.indexOf(ELIDED);
  const items = entries.length - (cut >= 0 ? 1 : 0);
  if (cut < 0) {
    if (items !== size) throw new Error(`${what} prints ${items} entries without '...', but the dimension has ${size}`);
    return Array.from({ length: size }, (_, k) => k);
  }
  const after = entries.length - cut - 1;
  if (cut + after >= size) throw new Error(`${what} prints ${cut + after} entries around '...', but the dimension has only ${size}`);
  return [...Array.from({ length: cut }, (_, k) => k), ...Array.from({ length: after }, (_, k) => size - after + k)];
}

function indexValues(header: Omit<EvalCallbackNode, 'printed' | 'sums'>, slices: Nested[]): PrintedValue[] {
  const [ne0, ne1, ne2, ne3] = header.shape;
  const where = `node '${header.name}' (line ${header.line}, shape {${header.shape.join(', ')}})`;
  if (slices.length !== ne3) throw new Error(`${where} prints ${slices.length} i3 slices, but ne3 is ${ne3}`);
  const out: PrintedValue[] = [];
  slices.forEach((slice, i3) => {
    const planes = slice.filter((e) => e !== ELIDED) as Nested[];
    positions(slice, ne2, `${where}, dimension 2,`).forEach((i2, p) => {
      const rows = planes[p].filter((e) => e !== ELIDED) as Nested[];
      positions(planes[p], ne1, `${where}, dimension 1,`).forEach((i1, r) => {
        const values = rows[r].filter((e) => e !== ELIDED) as number[];
        positions(rows[r], ne0, `${where}, dimension 0,`).forEach((i0, c) => out.push({ index: [i0, i1, i2, i3], value: values[c] }));
      });
    });
  });
  return out;
}

/**
 * The most a float32 sum of the exact values can differ from the sum of their printed (rounded)
 * forms: half the print resolution per value, plus the float32 accumulation bound (n-1)·2^-24·Σ|v|,
 * plus the 6 decimals of "%f".
 */
export function printedSumTolerance(values: readonly number[]): number {
  let magnitude = 0;
  for (const v of values) magnitude += Math.abs(v);
  return (values.length * PRINT_RESOLUTION) / 2 + Math.max(0, values.length - 1) * 2 ** -24 * magnitude + 5e-7;
}

/**
 * Generation 1 sums only the printed values; later ones the whole tensor. Where a node elides values
 * the two differ, and a sum that lies beyond the printed values' sum (more than their rounding can
 * explain) shows the whole tensor was summed. Where nothing is elided the two are the same.
 */
export function detectSumCoverage(nodes: readonly EvalCallbackNode[]): Pick<EvalCallbackDump, 'sumCovers' | 'sumEvidence'> {
  let elided = 0;
  const beyond: string[] = [];
  for (const n of nodes) {
    const total = n.shape.reduce((a, b) => a * b, 1);
    if (n.printed.length === 0 || n.printed.length === total || n.sums.length === 0) continue;
    elided++;
    const values = n.printed.map((p) => p.value);
    const printedSum = values.reduce((a, b) => a + b, 0);
    const last = n.sums[n.sums.length - 1];
    if (!(Math.abs(last - printedSum) <= printedSumTolerance(values))) beyond.push(n.name);
  }
  if (elided === 0) {
    return { sumCovers: 'whole-tensor', sumEvidence: 'no node elides values, so each sum covers its whole tensor' };
  }
  if (beyond.length > 0) {
    return {
      sumCovers: 'whole-tensor',
      sumEvidence: `${beyond.length} of ${elided} nodes with elided values have a sum that the printed values cannot explain (first: '${beyond[0]}'): the sums cover whole tensors (llama.cpp from August 2025 on)`,
    };
  }
  return {
    sumCovers: 'printed-values',
    sumEvidence: `all ${elided} nodes with elided values have sums equal to their printed values' sum within print rounding: the sums cover the printed values only (llama.cpp before August 2025)`,
  };
}

/** Position of index [i0, i1, i2, i3] in a contiguous array of the node's shape (i0 fastest). */
export function flatIndex([i0, i1, i2, i3]: NodeIndex, [ne0, ne1, ne2]: NodeIndex): number {
  return i0 + ne0 * (i1 + ne1 * (i2 + ne2 * i3));
}

// ---------------------------------------------------------------------------------------------
// Comparing our values with a dump

export interface CompareOptions {
  /** What the dump's sums cover: take it from the parsed dump (dump.sumCovers). */
  sumCovers: SumCoverage;
  /**
   * Allowed difference beyond the print rounding (half of 0.0001): absolute, plus relative to the
   * printed value. Defaults 5e-5 and 1e-3: one unit in the last printed digit, or 0.1 %, which
   * float32 accumulation-order noise stays well within.
   */
  absTolerance?: number;
  relTolerance?: number;
}

export interface SumComparison {
  covers: SumCoverage;
  /** The dump's last sum line. */
  expected: number;
  actual: number;
  /** The allowed difference: the per-value tolerances added up, plus float32 accumulation and print rounding. */
  tolerance: number;
  /** Every i3 slice's sum within tolerance. */
  withinTolerance: boolean;
}

export interface NodeComparison {
  position: number;
  name: string;
  /** Printed values compared. */
  compared: number;
  maxAbsError: number;
  /** ‖actual − expected‖ / ‖expected‖ over the printed values (0 when equal; Infinity when one side has a NaN or infinity the other has not). */
  relativeError: number;
  /** The first printed value (in print order) beyond tolerance. */
  firstDivergence?: ElementDivergence;
  divergentCount: number;
  /** Absent when the dump printed no sum for the node. */
  sum?: SumComparison;
  matches: boolean;
}

/**
 * Our full tensor for a node (contiguous, the node's shape, i0 fastest) against what the dump
 * printed: each printed value within the print rounding plus tolerance, and the sums as the dump
 * computed them (printed values only, or the whole tensor).
 */
export function compareNode(node: EvalCallbackNode, actual: Float32Array, options: CompareOptions): NodeComparison {
  const total = node.shape.reduce((a, b) => a * b, 1);
  if (actual.length !== total) {
    throw new Error(`node '${node.name}' has shape {${node.shape.join(', ')}} = ${total} values, but the array given has ${actual.length}`);
  }
  const absTolerance = options.absTolerance ?? 5e-5;
  const relTolerance = options.relTolerance ?? 1e-3;
  const allowed = (expected: number) => PRINT_RESOLUTION / 2 + absTolerance + relTolerance * Math.abs(expected);

  const tally = new ErrorTally();
  for (const { index, value: expected } of node.printed) {
    const at = flatIndex(index, node.shape);
    tally.add(expected, actual[at], allowed(expected), Math.max(Math.abs(expected), PRINT_RESOLUTION), at, () => index);
  }
  const sum = node.sums.length > 0 ? compareSums(node, actual, options.sumCovers, absTolerance, relTolerance) : undefined;
  const { compared, maxAbsError, relativeError, firstDivergence, divergentCount } = tally;
  return {
    position: node.position,
    name: node.name,
    compared,
    maxAbsError,
    relativeError,
    firstDivergence,
    divergentCount,
    sum,
    matches: divergentCount === 0 && (sum?.withinTolerance ?? true),
  };
}

/**
 * Over the whole tensor every i3 slice's line repeats the total; over printed values the sum runs on
 * from slice to slice (llama.cpp never resets it). The tolerance adds up the per-value tolerances,
 * float32 accumulation ((n-1)·2^-24·Σ|v|) and the 6 decimals of "%f".
 */
function compareSums(node: EvalCallbackNode, actual: Float32Array, covers: SumCoverage, absTolerance: number, relTolerance: number): SumComparison {
  const oursBySlice: { sum: number; tolerance: number }[] = [];
  let sum = 0, magnitude = 0, count = 0;
  const add = (v: number) => {
    sum += v;
    if (Number.isFinite(v)) magnitude += Math.abs(v);
    count++;
  };
  if (covers === 'whole-tensor') for (const v of actual) add(v);
  for (let i3 = 0; i3 < node.sums.length; i3++) {
    if (covers === 'printed-values') {
      for (const p of node.printed) if (p.index[3] === i3) add(actual[flatIndex(p.index, node.shape)]);
    }
    oursBySlice.push({ sum, tolerance: count * absTolerance + relTolerance * magnitude + Math.max(0, count - 1) * 2 ** -24 * magnitude + 5e-7 });
  }
  const withinTolerance = node.sums.every((expected, i3) => {
    const ours = oursBySlice[i3];
    return Math.abs(ours.sum - expected) <= ours.tolerance || (Number.isNaN(ours.sum) && Number.isNaN(expected));
  });
  const last = oursBySlice[oursBySlice.length - 1];
  return { covers, expected: node.sums[node.sums.length - 1], actual: last.sum, tolerance: last.tolerance, withinTolerance };
}

export interface DumpComparison {
  comparisons: NodeComparison[];
  /** The first node (in dump order) whose values or sum lie beyond tolerance. */
  firstDivergent?: NodeComparison;
}

/**
 * Every node for which `actualFor` returns our values (nodes it returns undefined for, and
 * quantized nodes, which have no printed values, are skipped), in dump order.
 */
export function compareDump(
  dump: EvalCallbackDump,
  actualFor: (node: EvalCallbackNode) => Float32Array | undefined,
  options: Partial<CompareOptions> = {},
): DumpComparison {
  const comparisons: NodeComparison[] = [];
  for (const node of dump.nodes) {
    if (node.printed.length === 0) continue;
    const actual = actualFor(node);
    if (actual) comparisons.push(compareNode(node, actual, { sumCovers: dump.sumCovers, ...options }));
  }
  return { comparisons, firstDivergent: comparisons.find((c) => !c.matches) };
}
