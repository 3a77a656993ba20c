// Summary statistics of a tensor's values, and per row, computed in float64.

export interface Histogram {
  /** Bin edges: bins.length + 1 values, evenly spaced from min to max. */
  edges: Float64Array;
  counts: Uint32Array;
}

export interface TensorStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  rms: number;
  std: number;
  /** Values that are NaN or infinite (left out of every other statistic). */
  nonFinite: number;
  /** Root mean square of each row (a row is `rowLength` consecutive values). */
  rowRms: Float32Array;
  histogram: Histogram;
}

export function tensorStats(values: Float32Array, rowLength = values.length, bins = 32): TensorStats {
  let min = Infinity, max = -Infinity, sum = 0, sumSq = 0, nonFinite = 0;
  const rows = Math.max(1, Math.ceil(values.length / rowLength));
  const rowRms = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let rowSq = 0, rowCount = 0;
    const end = Math.min(values.length, (r + 1) * rowLength);
    for (let i = r * rowLength; i < end; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) {
        nonFinite++;
        continue;
      }
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      rowSq += v * v;
      rowCount++;
    }
    sumSq += rowSq;
    rowRms[r] = rowCount ? Math.sqrt(rowSq / rowCount) : NaN;
  }
  const count = values.length - nonFinite;
  const mean = count ? sum / count : NaN;
  return {
    count,
    min: count ? min : NaN,
    max: count ? max : NaN,
    mean,
    rms: count ? Math.sqrt(sumSq / count) : NaN,
    std: count ? Math.sqrt(Math.max(0, sumSq / count - mean * mean)) : NaN,
    nonFinite,
    rowRms,
    histogram: histogram(values, count ? min : 0, count ? max : 0, bins),
  };
}

export function histogram(values: Float32Array, min: number, max: number, bins: number): Histogram {
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => min + ((max - min) * i) / bins);
  const counts = new Uint32Array(bins);
  const width = (max - min) / bins;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const b = width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0;
    counts[b]++;
  }
  return { edges, counts };
}
