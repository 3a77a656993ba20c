// What quantizing one tensor to each type does to it: quantize with our codecs (bit-exact with
// ggml's reference quantizers, i.e. what `llama-quantize` without an importance matrix writes),
// dequantize, and measure the error per row and per block against the tensor's own values.

import type { GGUFFile, GGUFTensorInfo } from '../gguf';
import { codecTypes, dequantize, quantize, typeByName, type GGMLTypeInfo } from '../quant';

/** Types a weight matrix is stored in, from most to fewest bits (Q8_1 and Q8_K are for activations only). */
export const WEIGHT_TYPES = ['F16', 'BF16', 'Q8_0', 'Q6_K', 'Q5_K', 'Q5_1', 'Q5_0', 'Q4_K', 'Q4_1', 'Q4_0', 'IQ4_NL', 'IQ4_XS', 'Q3_K', 'Q2_K'];

export interface QuantErrorByType {
  type: string;
  bitsPerWeight: number;
  /** Root mean square of (dequantized − original) over the tensor. */
  rmsError: number;
  /** rmsError / RMS of the original values. */
  relativeRmsError: number;
  maxAbsError: number;
  perRow: {
    rmsError: Float32Array;
    /** Row RMS error / row RMS (NaN for an all-zero row). */
    relative: Float32Array;
  };
  /** One entry per block of the target type (blockSize consecutive values of a row), in row order. */
  perBlock: { rmsError: Float32Array; maxAbsError: Float32Array };
  /** Rows with the largest relative error, largest first. */
  worstRows: { row: number; relative: number }[];
}

export interface QuantErrorReport {
  tensor: string;
  /** The type the values were read in; a quantized source means errors relative to its dequantized values. */
  sourceType: string;
  shape: readonly number[];
  rms: number;
  byType: QuantErrorByType[];
  /** Types that cannot hold this tensor, and why. */
  skipped: { type: string; reason: string }[];
  observations: string[];
}

export interface QuantErrorOptions {
  /** Target types (default WEIGHT_TYPES). */
  types?: readonly string[];
  /** How many worst rows to list per type (default 5). */
  worstRows?: number;
}

export function quantError(file: GGUFFile, tensor: string | GGUFTensorInfo, options: QuantErrorOptions = {}): QuantErrorReport {
  const t = typeof tensor === 'string' ? file.tensor(tensor) : tensor;
  const original = file.readRows(t);
  const rowLength = t.shape[0];
  const rows = original.length / rowLength;
  const rowSq = new Float64Array(rows);
  let totalSq = 0;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = r * rowLength; i < (r + 1) * rowLength; i++) s += original[i] * original[i];
    rowSq[r] = s;
    totalSq += s;
  }
  const rms = Math.sqrt(totalSq / original.length);

  const byType: QuantErrorByType[] = [];
  const skipped: QuantErrorReport['skipped'] = [];
  for (const name of options.types ?? WEIGHT_TYPES) {
    const type = typeByName(name);
    if (!type?.codec) {
      const known = codecTypes().map((x) => x.name).join(', ');
      skipped.push({ type: name, reason: `${type ? `llamascope cannot encode ${type.name} yet` : `'${name}' is not a ggml type`}; it can encode ${known}` });
    } else if (rowLength % type.blockSize !== 0) {
      skipped.push({ type: type.name, reason: `rows of ${rowLength} values are not whole ${type.blockSize}-value ${type.name} blocks (llama-quantize falls back to another type here)` });
    } else {
      byType.push(measure(type, original, rowLength, rowSq, rms, options.worstRows ?? 5));
    }
  }
  const report: QuantErrorReport = { tensor: t.name, sourceType: t.type.name, shape: t.shape, rms, byType, skipped, observations: [] };
  report.observations = observe(report);
  return report;
}

function measure(type: GGMLTypeInfo, original: Float32Array, rowLength: number, rowSq: Float64Array, rms: number, worst: number): QuantErrorByType {
  const restored = dequantize(type, quantize(type, original));
  const rows = rowSq.length;
  const blocksPerRow = rowLength / type.blockSize;
  const perRow = { rmsError: new Float32Array(rows), relative: new Float32Array(rows) };
  const perBlock = { rmsError: new Float32Array(rows * blocksPerRow), maxAbsError: new Float32Array(rows * blocksPerRow) };
  let totalSq = 0, maxAbsError = 0;
  for (let r = 0; r < rows; r++) {
    let rowErrSq = 0;
    for (let b = 0; b < blocksPerRow; b++) {
      const start = r * rowLength + b * type.blockSize;
      let sq = 0, max = 0;
      for (let i = start; i < start + type.blockSize; i++) {
        const e = restored[i] - original[i];
        sq += e * e;
        if (!(Math.abs(e) <= max)) max = Math.abs(e); // NaN propagates
      }
      perBlock.rmsError[r * blocksPerRow + b] = Math.sqrt(sq / type.blockSize);
      perBlock.maxAbsError[r * blocksPerRow + b] = max;
      if (!(max <= maxAbsError)) maxAbsError = max;
      rowErrSq += sq;
    }
    perRow.rmsError[r] = Math.sqrt(rowErrSq / rowLength);
    perRow.relative[r] = Math.sqrt(rowErrSq / rowSq[r]);
    totalSq += rowErrSq;
  }
  const rmsError = Math.sqrt(totalSq / original.length);
  const worstRows = Array.from({ length: rows }, (_, r) => r)
    .sort((a, b) => perRow.relative[b] - perRow.relative[a] || a - b)
    .slice(0, worst)
    .map((row) => ({ row, relative: perRow.relative[row] }));
  return {
    type: type.name,
    bitsPerWeight: (8 * type.typeSize) / type.blockSize,
    rmsError,
    relativeRmsError: rmsError / rms,
    maxAbsError,
    perRow,
    perBlock,
    worstRows,
  };
}

function observe(r: QuantErrorReport): string[] {
  const out: string[] = [];
  if (r.sourceType !== 'F32') {
    out.push(`'${r.tensor}' is stored as ${r.sourceType}: the errors are measured against its dequantized values, not the original weights`);
  }
  const ranked = [...r.byType].sort((a, b) => a.relativeRmsError - b.relativeRmsError);
  if (ranked.length > 1) {
    out.push(`relative RMS error, smallest first: ${ranked.map((q) => `${q.type} ${q.relativeRmsError.toPrecision(3)}`).join(', ')}`);
    // Fewer bits usually mean more error; where a type with fewer bits does better, say so.
    for (const q of ranked) {
      const fewerBitsBetter = ranked.filter((o) => o.bitsPerWeight < q.bitsPerWeight && o.relativeRmsError < q.relativeRmsError);
      if (fewerBitsBetter.length > 0) {
        out.push(`${q.type} (${q.bitsPerWeight} bits per weight) has a larger error on this tensor than ${fewerBitsBetter.map((o) => `${o.type} (${o.bitsPerWeight})`).join(', ')}`);
      }
    }
  }
  for (const q of r.byType) {
    const sorted = Float32Array.from(q.perRow.relative).sort();
    const typical = sorted[sorted.length >> 1];
    const far = q.worstRows.filter((w) => w.relative > 3 * typical);
    if (far.length > 0) {
      out.push(`${q.type}: ${far.map((w) => `row ${w.row} ${w.relative.toPrecision(3)}`).join(', ')} — more than 3x the median row's relative error ${typical.toPrecision(3)}`);
    }
  }
  return out;
}
