// The block scales of a quantized tensor, across the whole tensor and per row, with the rows whose
// scales stand out. A "tiny scale" read from a file (seed 000: 1.19e-7 in token_embd's first
// blocks) means little alone: this report shows whether it is one row among thousands of ordinary
// ones, and for an embedding, which token that row is.

import type { GGUFFile, GGUFTensorInfo } from '../gguf';
import type { BlockFieldValues } from '../quant/codec';

/**
 * How each type's block fields give the grid step ("effective scale") of each sub-block, and the
 * offset of its lowest level where the type has one. The formulas are the dequantization of
 * ggml/src/ggml-quants.c (dequantize_row_*): legacy types y = d·q (+ m); K-quants y = (d·sc)·q − dmin·m;
 * IQ4_XS y = d·(sc − 32)·level. Our codecs already give Q3_K's and Q6_K's scales signed.
 */
interface ScaleLayout {
  /** How many effective scales one block has. */
  subBlocks: number;
  scales(f: BlockFieldValues, out: Float32Array, at: number): void;
  /** The value code 0 stands for (before adding q·scale), per sub-block. */
  offsets?(f: BlockFieldValues, out: Float32Array, at: number): void;
  /** The second per-block float: Q4_1/Q5_1 'm', K-quants 'dmin'. */
  minField?: 'm' | 'dmin';
}

const num = (v: number | number[]) => v as number;
const list = (v: number | number[]) => v as number[];

const blockD: ScaleLayout = { subBlocks: 1, scales: (f, out, at) => void (out[at] = num(f.d)) };
const blockDM: ScaleLayout = { ...blockD, minField: 'm', offsets: (f, out, at) => void (out[at] = num(f.m)) };

function kQuant(subBlocks: number, withMins: boolean, scaleOffset = 0): ScaleLayout {
  return {
    subBlocks,
    scales(f, out, at) {
      const d = num(f.d), sc = list(f.scales);
      for (let j = 0; j < subBlocks; j++) out[at + j] = d * (sc[j] - scaleOffset);
    },
    ...(withMins && {
      minField: 'dmin' as const,
      offsets(f: BlockFieldValues, out: Float32Array, at: number) {
        const dmin = num(f.dmin), m = list(f.mins);
        for (let j = 0; j < subBlocks; j++) out[at + j] = -dmin * m[j];
      },
    }),
  };
}

const LAYOUTS: Record<string, ScaleLayout> = {
  Q4_0: blockD,
  Q5_0: blockD,
  Q8_0: blockD,
  Q8_1: blockD,
  IQ4_NL: blockD,
  Q4_1: blockDM,
  Q5_1: blockDM,
  Q2_K: kQuant(16, true),
  Q3_K: kQuant(16, false),
  Q4_K: kQuant(8, true),
  Q5_K: kQuant(8, true),
  Q6_K: kQuant(16, false),
  Q8_K: blockD,
  IQ4_XS: kQuant(8, false, 32),
};

/** Smallest positive normal f16; below it f16 keeps fewer significant bits (down to 2^-24). */
const F16_MIN_NORMAL = 2 ** -14;

export interface RowScale {
  row: number;
  /** Median of |effective scale| over the row's sub-blocks. */
  median: number;
  mean: number;
  /** median / the median of all rows' medians. */
  ratioToTypical: number;
  /** For token_embd / output: the token this row belongs to, and its tokenizer.ggml.token_type. */
  token?: string;
  tokenType?: number;
}

export interface BlockReport {
  tensor: string;
  type: string;
  shape: readonly number[];
  rows: number;
  blocksPerRow: number;
  /** Effective scales per block (1 for legacy types, 8 or 16 for K-quants). */
  subBlocksPerBlock: number;
  /** Each block's stored scale d, as decoded (f16 or f32), block b = row · blocksPerRow + column / blockSize. */
  d: Float32Array;
  /** Each block's second float where the type has one: 'm' (Q4_1, Q5_1) or 'dmin' (K-quants). */
  min?: { field: 'm' | 'dmin'; values: Float32Array };
  /** Grid step of every sub-block (d for legacy types; d·scale for K-quants), signed, in block order. */
  effectiveScales: Float32Array;
  /** Value of code 0 of every sub-block where the type has an offset (Q4_1 m, K-quants −dmin·min). */
  effectiveOffsets?: Float32Array;
  /** Per row, over |effective scale| of its sub-blocks. */
  perRow: { min: Float32Array; median: Float32Array; max: Float32Array; mean: Float32Array };
  /** Over |effective scale| of every sub-block. */
  whole: { min: number; median: number; max: number };
  /** The median of the rows' medians: what a typical row looks like. */
  typicalRowMedian: number;
  /** Rows with the smallest and the largest median scale, most extreme first. */
  smallestRows: RowScale[];
  largestRows: RowScale[];
  zeroScales: number;
  nonFiniteScales: number;
  /** Nonzero |effective scale| below 2^-14, f16's subnormal range. */
  subnormalScales: number;
  observations: string[];
}

export interface BlockReportOptions {
  /** How many rows to list at each end (default 5). */
  extremeRows?: number;
  /** A row is mentioned in the observations when its median is this many times off the typical row's (default 10). */
  factor?: number;
}

export function blockReport(file: GGUFFile, tensor: string | GGUFTensorInfo, options: BlockReportOptions = {}): BlockReport {
  const t = typeof tensor === 'string' ? file.tensor(tensor) : tensor;
  const layout = LAYOUTS[t.type.name];
  if (!layout || !t.type.codec) {
    const kinds = Object.keys(LAYOUTS).join(', ');
    throw new Error(`'${t.name}' is ${t.type.name}, which has no block scales; blockReport reads ${kinds}. For its values use weightReport (llamascope weights) or tensorStats.`);
  }
  const codec = t.type.codec;
  const rows = file.rowCount(t);
  const blocksPerRow = t.shape[0] / t.type.blockSize;
  const sub = layout.subBlocks;
  const nBlocks = rows * blocksPerRow;
  const d = new Float32Array(nBlocks);
  const minValues = layout.minField ? new Float32Array(nBlocks) : undefined;
  const effectiveScales = new Float32Array(nBlocks * sub);
  const effectiveOffsets = layout.offsets ? new Float32Array(nBlocks * sub) : undefined;

  // Rows are read in chunks so that a large embedding never needs its bytes all at once.
  const chunkRows = Math.max(1, Math.floor((1 << 22) / (blocksPerRow * t.type.typeSize)));
  for (let start = 0; start < rows; start += chunkRows) {
    const end = Math.min(rows, start + chunkRows);
    const bytes = file.readRowBytes(t, start, end);
    for (let i = 0, b = start * blocksPerRow; i < (end - start) * blocksPerRow; i++, b++) {
      const fields = codec.blockFields(bytes, i * t.type.typeSize);
      d[b] = num(fields.d);
      if (minValues && layout.minField) minValues[b] = num(fields[layout.minField]);
      layout.scales(fields, effectiveScales, b * sub);
      layout.offsets?.(fields, effectiveOffsets!, b * sub);
    }
  }

  const perRowCount = blocksPerRow * sub;
  const perRow = { min: new Float32Array(rows), median: new Float32Array(rows), max: new Float32Array(rows), mean: new Float32Array(rows) };
  const magnitudes = new Float32Array(perRowCount);
  let zeroScales = 0, nonFiniteScales = 0, subnormalScales = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let k = 0; k < perRowCount; k++) {
      const m = Math.abs(effectiveScales[r * perRowCount + k]);
      magnitudes[k] = m;
      sum += m;
      if (m === 0) zeroScales++;
      else if (!Number.isFinite(m)) nonFiniteScales++;
      else if (m < F16_MIN_NORMAL) subnormalScales++;
    }
    magnitudes.sort();
    perRow.min[r] = magnitudes[0];
    perRow.max[r] = magnitudes[perRowCount - 1];
    perRow.median[r] = median(magnitudes);
    perRow.mean[r] = sum / perRowCount;
  }
  const all = Float32Array.from(effectiveScales, Math.abs).sort();
  const typicalRowMedian = median(Float32Array.from(perRow.median).sort());

  const label = tokenLabels(file, t, rows);
  const rowScale = (row: number): RowScale => ({
    row,
    median: perRow.median[row],
    mean: perRow.mean[row],
    ratioToTypical: perRow.median[row] / typicalRowMedian,
    ...label(row),
  });
  const byMedian = Array.from({ length: rows }, (_, r) => r).sort((a, b) => perRow.median[a] - perRow.median[b] || a - b);
  const k = Math.min(options.extremeRows ?? 5, rows);
  const smallestRows = byMedian.slice(0, k).map(rowScale);
  const largestRows = byMedian.slice(rows - k).reverse().map(rowScale);

  const report: BlockReport = {
    tensor: t.name,
    type: t.type.name,
    shape: t.shape,
    rows,
    blocksPerRow,
    subBlocksPerBlock: sub,
    d,
    min: minValues && layout.minField ? { field: layout.minField, values: minValues } : undefined,
    effectiveScales,
    effectiveOffsets,
    perRow,
    whole: { min: all[0], median: median(all), max: all[all.length - 1] },
    typicalRowMedian,
    smallestRows,
    largestRows,
    zeroScales,
    nonFiniteScales,
    subnormalScales,
    observations: [],
  };
  report.observations = observe(report, byMedian, rowScale, options.factor ?? 10);
  return report;
}

function observe(r: BlockReport, byMedian: number[], rowScale: (row: number) => RowScale, factor: number): string[] {
  const out: string[] = [];
  const scaleWord = r.subBlocksPerBlock > 1 ? 'sub-block scale (d·scale)' : 'block scale d';
  const scalesWord = r.subBlocksPerBlock > 1 ? 'sub-block scales (d·scale)' : 'block scales d';
  const total = r.effectiveScales.length;
  const describeRow = (s: RowScale) => `row ${s.row}${s.token === undefined ? '' : ` (token ${JSON.stringify(s.token)}${s.tokenType === undefined ? '' : `, ${tokenTypeName(s.tokenType)}`})`}`;
  const low = byMedian.filter((row) => r.perRow.median[row] * factor < r.typicalRowMedian);
  const high = byMedian.filter((row) => r.perRow.median[row] > r.typicalRowMedian * factor).reverse();
  for (const [rows, side] of [[low, 'below'], [high, 'above']] as const) {
    if (rows.length === 0) continue;
    const shown = rows.slice(0, 5).map((row) => {
      const s = rowScale(row);
      return `${describeRow(s)} ${s.median.toPrecision(3)} (${formatRatio(s.ratioToTypical)})`;
    });
    out.push(
      `${rows.length} of ${r.rows} rows have a median ${scaleWord} more than ${factor}x ${side} the typical row's ${r.typicalRowMedian.toPrecision(3)}: ` +
        shown.join(', ') + (rows.length > 5 ? ', ...' : ''),
    );
  }
  if (r.zeroScales > 0) out.push(`${r.zeroScales} of ${total} ${scalesWord} are 0: every value of those (sub-)blocks decodes to ${r.effectiveOffsets ? 'its offset' : '0'}`);
  if (r.nonFiniteScales > 0) out.push(`${r.nonFiniteScales} of ${total} ${scalesWord} are NaN or infinite: those (sub-)blocks decode to non-finite values`);
  if (r.subnormalScales > 0) {
    out.push(`${r.subnormalScales} of ${total} ${scalesWord} are below 2^-14 = 6.1e-5, f16's subnormal range, where a stored f16 keeps fewer significant bits`);
  }
  return out;
}

function formatRatio(ratio: number): string {
  return ratio >= 1 ? `${ratio.toPrecision(3)}x typical` : `1/${(1 / ratio).toPrecision(3)} of typical`;
}

function median(sorted: Float32Array): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

const TOKEN_TYPE_NAMES = ['UNDEFINED', 'NORMAL', 'UNKNOWN', 'CONTROL', 'USER_DEFINED', 'UNUSED', 'BYTE'];

/** llama.cpp's llama_token_type names (tokenizer.ggml.token_type values). */
export function tokenTypeName(type: number): string {
  return TOKEN_TYPE_NAMES[type] ?? `type ${type}`;
}

/** For a tensor with one row per vocabulary entry (token_embd, output), each row's token and type. */
function tokenLabels(file: GGUFFile, t: GGUFTensorInfo, rows: number): (row: number) => { token?: string; tokenType?: number } {
  const tokens = file.get('tokenizer.ggml.tokens');
  const types = file.get('tokenizer.ggml.token_type') as ArrayLike<number> | undefined;
  const perToken = /^(token_embd|output)\.weight$/.test(t.name) && Array.isArray(tokens) && tokens.length === rows;
  if (!perToken) return () => ({});
  return (row) => ({ token: String(tokens[row]), tokenType: types?.length === rows ? types[row] : undefined });
}

export interface TokenTypeScales {
  tokenType: number;
  typeName: string;
  tokens: number;
  /** Mean and median over the type's rows of each row's mean |effective scale|. */
  meanRowScale: number;
  medianRowScale: number;
}

export interface TokenScaleCorrelation {
  tensor: string;
  type: string;
  byTokenType: TokenTypeScales[];
  /**
   * Pearson correlation between a row's mean |effective scale| and 1 for tokens that are not
   * normal pieces (byte, control, unknown, ...), 0 for normal ones (point-biserial). Negative: the
   * special tokens' rows have smaller scales.
   */
  correlation: number;
  /** Mean row scale of the non-normal tokens divided by that of the normal ones. */
  specialToNormalRatio: number;
}

/**
 * Do the rows of special tokens (bytes, control, unknown) have different block scales from normal
 * pieces? Rarely seen tokens keep embeddings close to their initialization, so their rows — and
 * a quantized row's scales — can be much smaller than the rest.
 */
export function tokenScaleCorrelation(file: GGUFFile, tensor: string | GGUFTensorInfo = 'token_embd.weight'): TokenScaleCorrelation {
  const report = blockReport(file, tensor, { extremeRows: 0 });
  const types = file.get('tokenizer.ggml.token_type') as ArrayLike<number> | undefined;
  if (!types || types.length !== report.rows) {
    throw new Error(`'${report.tensor}' has ${report.rows} rows, but tokenizer.ggml.token_type has ${types?.length ?? 'no'} entries; the rows cannot be matched to tokens`);
  }
  const scales = report.perRow.mean;
  const groups = new Map<number, number[]>();
  for (let r = 0; r < report.rows; r++) {
    const list = groups.get(types[r]) ?? [];
    list.push(scales[r]);
    groups.set(types[r], list);
  }
  const byTokenType = [...groups]
    .sort(([a], [b]) => a - b)
    .map(([tokenType, values]) => ({
      tokenType,
      typeName: tokenTypeName(tokenType),
      tokens: values.length,
      meanRowScale: values.reduce((a, b) => a + b, 0) / values.length,
      medianRowScale: median(Float32Array.from(values).sort()),
    }));
  const special = Array.from({ length: report.rows }, (_, r) => (types[r] === NORMAL_TOKEN ? 0 : 1));
  const meanOf = (flag: number) => {
    const picked = Array.from(scales).filter((_, r) => special[r] === flag);
    return picked.reduce((a, b) => a + b, 0) / picked.length;
  };
  return {
    tensor: report.tensor,
    type: report.type,
    byTokenType,
    correlation: pearson(special, scales),
    specialToNormalRatio: meanOf(1) / meanOf(0),
  };
}

const NORMAL_TOKEN = 1;

function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}
