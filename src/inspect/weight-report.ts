// Statistics of every tensor of a file, each set beside what is typical for its kind in the same
// file (the median over the 6 ffn_norm tensors, say), with the tensors and rows that stand out.
// "Typical" is taken from the file itself, not from assumptions about models: seed 003 took RMSNorm
// weights of RMS 0.046 for a loading bug because "norm weights are ~1.0"; whether 0.046 is unusual
// is a question about that model's other norms.

import type { GGUFFile, GGUFTensorInfo } from '../gguf';

export type WeightRole = 'embedding' | 'norm' | 'attention projection' | 'feed-forward projection' | 'output head' | 'other';

export interface TensorWeightStats {
  name: string;
  /** The name without its layer: 'attn_norm.weight', 'token_embd.weight'. Tensors of one kind are compared with each other. */
  kind: string;
  role: WeightRole;
  /** The N of blk.N, if any. */
  layer?: number;
  type: string;
  shape: readonly number[];
  count: number;
  min: number;
  max: number;
  mean: number;
  rms: number;
  std: number;
  maxAbs: number;
  zeros: number;
  /** NaN or infinite values (left out of the other statistics). */
  nonFinite: number;
  /** For tensors with more than one row: RMS of each row, summarized. */
  rowRms?: { min: number; median: number; max: number };
}

/** What is typical for one kind (or, for kinds with fewer than 3 tensors, one role) in this file. */
export interface TypicalRange {
  /** The kind or role the tensors share. */
  group: string;
  tensors: number;
  medianRms: number;
  minRms: number;
  maxRms: number;
  medianMaxAbs: number;
}

export interface WeightObservation {
  tensor: string;
  /** What stands out: its RMS, its largest value, rows, non-finite or zero values, or all values equal. */
  aspect: 'rms' | 'maxAbs' | 'rows' | 'nonFinite' | 'zeros' | 'constant';
  text: string;
  /** For 'rms' and 'maxAbs': the tensor's value / its group's median. */
  ratio?: number;
}

export interface WeightReport {
  path: string;
  tensors: TensorWeightStats[];
  /** Tensors whose type llamascope cannot decode (their values are not in the report). */
  undecoded: { tensor: string; type: string }[];
  /** By tensor name: the range it is compared with (absent when the file has no peers for it). */
  typical: Record<string, TypicalRange>;
  observations: WeightObservation[];
}

export interface WeightReportOptions {
  /** A tensor or row is mentioned when it is more than this many times off its group's median (default 3). */
  factor?: number;
}

/** Fewer tensors of a kind than this: compare with the whole role instead. */
const MIN_PEERS = 3;
/** Values read per chunk, so that a large embedding is never dequantized at once. */
const CHUNK_VALUES = 1 << 20;

export function weightRole(kind: string): WeightRole {
  if (kind.startsWith('token_embd')) return 'embedding';
  if (/(^|_)norm\b/.test(kind)) return 'norm';
  if (kind.startsWith('attn_')) return 'attention projection';
  if (kind.startsWith('ffn_')) return 'feed-forward projection';
  if (kind.startsWith('output.')) return 'output head';
  return 'other';
}

export function weightReport(file: GGUFFile, options: WeightReportOptions = {}): WeightReport {
  const factor = options.factor ?? 3;
  const tensors = file.tensors.filter((t) => t.type.codec).map((t) => tensorWeightStats(file, t));
  const undecoded = file.tensors.filter((t) => !t.type.codec).map((t) => ({ tensor: t.name, type: t.type.name }));
  const typical = typicalRanges(tensors);
  const observations: WeightObservation[] = [];
  for (const s of tensors) observations.push(...observe(s, typical[s.name], factor, file));
  return { path: file.path, tensors, undecoded, typical, observations };
}

export function tensorWeightStats(file: GGUFFile, t: GGUFTensorInfo): TensorWeightStats {
  const layer = /^blk\.(\d+)\./.exec(t.name);
  const kind = t.name.replace(/^blk\.\d+\./, '');
  const rowLength = t.shape[0];
  const rows = file.rowCount(t);
  const rowRms = new Float32Array(rows);
  let min = Infinity, max = -Infinity, sum = 0, sumSq = 0, zeros = 0, nonFinite = 0;
  const chunkRows = Math.max(1, Math.floor(CHUNK_VALUES / rowLength));
  for (let start = 0; start < rows; start += chunkRows) {
    const end = Math.min(rows, start + chunkRows);
    const values = file.readRows(t, start, end);
    for (let r = 0; r < end - start; r++) {
      let rowSq = 0, rowCount = 0;
      for (let i = r * rowLength; i < (r + 1) * rowLength; i++) {
        const v = values[i];
        if (!Number.isFinite(v)) {
          nonFinite++;
          continue;
        }
        if (v < min) min = v;
        if (v > max) max = v;
        if (v === 0) zeros++;
        sum += v;
        rowSq += v * v;
        rowCount++;
      }
      sumSq += rowSq;
      rowRms[start + r] = rowCount ? Math.sqrt(rowSq / rowCount) : NaN;
    }
  }
  const count = t.nElements - nonFinite;
  const mean = sum / count;
  const sortedRows = rowRms.sort();
  return {
    name: t.name,
    kind,
    role: weightRole(kind),
    layer: layer ? Number(layer[1]) : undefined,
    type: t.type.name,
    shape: t.shape,
    count,
    min: count ? min : NaN,
    max: count ? max : NaN,
    mean,
    rms: Math.sqrt(sumSq / count),
    std: Math.sqrt(Math.max(0, sumSq / count - mean * mean)),
    maxAbs: count ? Math.max(Math.abs(min), Math.abs(max)) : NaN,
    zeros,
    nonFinite,
    rowRms: rows > 1 ? { min: sortedRows[0], median: median(sortedRows), max: sortedRows[rows - 1] } : undefined,
  };
}

function typicalRanges(tensors: TensorWeightStats[]): Record<string, TypicalRange> {
  const groups = new Map<string, TensorWeightStats[]>();
  const add = (key: string, s: TensorWeightStats) => groups.set(key, [...(groups.get(key) ?? []), s]);
  for (const s of tensors) {
    add(`kind:${s.kind}`, s);
    add(`role:${s.role}`, s);
  }
  const range = (group: string, members: TensorWeightStats[]): TypicalRange => {
    const rms = Float64Array.from(members, (m) => m.rms).sort();
    return {
      group,
      tensors: members.length,
      medianRms: median(rms),
      minRms: rms[0],
      maxRms: rms[rms.length - 1],
      medianMaxAbs: median(Float64Array.from(members, (m) => m.maxAbs).sort()),
    };
  };
  const out: Record<string, TypicalRange> = {};
  for (const s of tensors) {
    const kind = groups.get(`kind:${s.kind}`)!;
    const role = groups.get(`role:${s.role}`)!;
    if (kind.length >= MIN_PEERS) out[s.name] = range(`the ${kind.length} ${s.kind} tensors`, kind);
    else if (s.role !== 'other' && role.length >= MIN_PEERS) out[s.name] = range(`the ${role.length} ${s.role} tensors`, role);
  }
  return out;
}

function observe(s: TensorWeightStats, typical: TypicalRange | undefined, factor: number, file: GGUFFile): WeightObservation[] {
  const out: WeightObservation[] = [];
  if (s.nonFinite > 0) out.push({ tensor: s.name, aspect: 'nonFinite', text: `${s.name}: ${s.nonFinite} of ${s.count + s.nonFinite} values are NaN or infinite` });
  if (s.count > 0 && s.zeros === s.count) {
    out.push({ tensor: s.name, aspect: 'zeros', text: `${s.name}: every value is 0` });
  } else if (s.count > 1 && s.min === s.max) {
    out.push({ tensor: s.name, aspect: 'constant', text: `${s.name}: every value is ${s.min}${s.role === 'norm' && s.min === 1 ? ' (the value norm weights start from before training)' : ''}` });
  }
  if (typical) {
    const compare = (aspect: 'rms' | 'maxAbs', value: number, reference: number, label: string) => {
      const ratio = value / reference;
      if (ratio > factor || ratio < 1 / factor) {
        const times = ratio >= 1 ? `${ratio.toPrecision(3)}x` : `1/${(1 / ratio).toPrecision(3)} of`;
        out.push({ tensor: s.name, aspect, ratio, text: `${s.name}: ${label} ${value.toPrecision(3)} is ${times} the median of ${typical.group} (${reference.toPrecision(3)})` });
      }
    };
    compare('rms', s.rms, typical.medianRms, 'RMS');
    compare('maxAbs', s.maxAbs, typical.medianMaxAbs, 'largest |value|');
  }
  if (s.rowRms) {
    const rows = unusualRows(file, s, factor);
    if (rows) out.push(rows);
  }
  return out;
}

/** Rows whose RMS is more than `factor` off the tensor's median row, with tokens for per-token tensors. */
function unusualRows(file: GGUFFile, s: TensorWeightStats, factor: number): WeightObservation | undefined {
  const t = file.tensor(s.name);
  const typical = s.rowRms!.median;
  if (!(s.rowRms!.min * factor < typical || s.rowRms!.max > typical * factor)) return undefined;
  const rowLength = t.shape[0];
  const rows = file.rowCount(t);
  const tokens = /^(token_embd|output)\.weight$/.test(s.name) ? (file.get('tokenizer.ggml.tokens') as string[] | undefined) : undefined;
  const found: { row: number; rms: number }[] = [];
  const chunkRows = Math.max(1, Math.floor(CHUNK_VALUES / rowLength));
  for (let start = 0; start < rows; start += chunkRows) {
    const values = file.readRows(t, start, Math.min(rows, start + chunkRows));
    for (let r = 0; r * rowLength < values.length; r++) {
      let sq = 0;
      for (let i = r * rowLength; i < (r + 1) * rowLength; i++) sq += values[i] * values[i];
      const rms = Math.sqrt(sq / rowLength);
      if (rms * factor < typical || rms > typical * factor) found.push({ row: start + r, rms });
    }
  }
  const shown = found.slice(0, 8).map(({ row, rms }) => `${row}${tokens?.length === rows ? ` ${JSON.stringify(tokens[row])}` : ''} (${rms.toPrecision(3)})`);
  return {
    tensor: s.name,
    aspect: 'rows',
    text: `${s.name}: ${found.length} of ${rows} rows have an RMS more than ${factor}x off the median row's ${typical.toPrecision(3)}: rows ${shown.join(', ')}${found.length > 8 ? ', ...' : ''}`,
  };
}

function median(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
