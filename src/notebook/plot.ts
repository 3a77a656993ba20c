// Figure builders for what one looks at inside a model: a weight matrix or attention map
// (heatmap), a quantity per layer or step (line), a distribution of values (histogram), one
// quantity against another (scatter), a value per named thing (bar).
//
// Every builder checks its input and refuses sizes a notebook output should not hold: each value is
// sent twice (plotly JSON and the HTML), so slice or pool first — the error says so.

import type { Data, Layout, LayoutAxis } from 'plotly.js-dist';
import { tensorStats } from '../inspect/stats';
import { flatValues, jsonNumbers, matrixRows, type Matrix, type Values } from './arrays';
import { Figure } from './figure';
import { countOf, formatCount, formatNumber, shortestFloat32 } from './format';

/** Most values one figure may hold (512 x 512 plus change). */
export const MAX_FIGURE_VALUES = 300_000;

export interface PlotOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Pixels (default 420). */
  height?: number;
}

export interface HeatmapOptions extends PlotOptions {
  /** One tick label per column / row, e.g. the tokens of an attention map. */
  xLabels?: readonly string[];
  yLabels?: readonly string[];
  /** A Plotly colorscale name; default: 'RdBu' centred on 0 when values have both signs, else 'Viridis'. */
  colorscale?: string;
}

/** A matrix as colours, row 0 at the top (as a matrix is written, and as attention maps are read). */
export function heatmap(z: Matrix, options: HeatmapOptions = {}): Figure {
  const rows = matrixRows(z);
  const cols = rows[0]?.length ?? 0;
  checkSize('heatmap', rows.length * cols);
  checkLabels('xLabels', options.xLabels, cols, 'columns');
  checkLabels('yLabels', options.yLabels, rows.length, 'rows');
  let min = Infinity;
  let max = -Infinity;
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      if (!Number.isFinite(row[i])) continue;
      min = Math.min(min, row[i]);
      max = Math.max(max, row[i]);
    }
  }
  const diverging = min < 0 && max > 0;
  const trace: Data = {
    type: 'heatmap',
    z: rows.map(jsonNumbers),
    colorscale: options.colorscale ?? (diverging ? 'RdBu' : 'Viridis'),
    hovertemplate: 'row %{y}, column %{x}: %{z}<extra></extra>',
    ...(options.colorscale === undefined && diverging ? { zmid: 0 } : {}),
  };
  const shape = `${formatCount(rows.length)} × ${formatCount(cols)}`;
  const range = Number.isFinite(min) ? `values from ${formatNumber(min)} to ${formatNumber(max)}` : 'no finite values';
  return new Figure([trace], layout(options, { xaxis: labelledAxis(options.xLabels), yaxis: { ...labelledAxis(options.yLabels), autorange: 'reversed' } }), `heatmap ${shape}${titled(options)}: ${range}`);
}

export interface LineOptions extends PlotOptions {
  /** x of every point (default 0, 1, 2, …). */
  x?: ArrayLike<number>;
  logY?: boolean;
  markers?: boolean;
}

/** One line, or one per named series (e.g. { ours, 'llama.cpp': ref }) over the same x. */
export function line(y: ArrayLike<number> | Record<string, ArrayLike<number>>, options: LineOptions = {}): Figure {
  const series = isSeries(y) ? Object.entries(y) : [['', y] as const];
  const points = series[0]?.[1].length ?? 0;
  for (const [name, values] of series) {
    if (values.length !== points) throw new Error(`series '${name}' has ${values.length} points but '${series[0][0]}' has ${points}: lines share one x`);
  }
  if (options.x && options.x.length !== points) throw new Error(`x has ${options.x.length} values but the series have ${points} points`);
  checkSize('line', points * series.length);
  const x = options.x ? jsonNumbers(options.x) : undefined;
  const data: Data[] = series.map(([name, values]) => ({
    type: 'scatter',
    mode: options.markers ? 'lines+markers' : 'lines',
    ...(name ? { name } : {}),
    ...(x ? { x } : {}),
    y: jsonNumbers(values),
  }));
  const what = series.length > 1 ? `${series.length} series × ${countOf(points, 'point')}` : countOf(points, 'point');
  return new Figure(data, layout(options, { yaxis: options.logY ? { type: 'log' } : {}, showlegend: series.length > 1 }), `line plot of ${what}${titled(options)}`);
}

export interface HistogramOptions extends PlotOptions {
  /** Number of equal-width bins between min and max (default 64). */
  bins?: number;
  logY?: boolean;
}

/**
 * The distribution of any number of values: binned here (float32, as inspect's tensorStats does),
 * so a histogram of millions of weights sends only the bins. NaN and infinities are left out and
 * counted in the description.
 */
export function histogram(values: Values, options: HistogramOptions = {}): Figure {
  const flat = flatValues(values);
  const f32 = flat instanceof Float32Array ? flat : Float32Array.from(flat);
  const bins = options.bins ?? 64;
  if (!(Number.isInteger(bins) && bins > 0)) throw new Error(`bins must be a positive integer, got ${bins}`);
  const stats = tensorStats(f32, f32.length, bins);
  if (stats.count === 0) throw new Error(`none of the ${formatCount(f32.length)} values is finite: there is nothing to bin`);
  const { edges, counts } = stats.histogram;
  // All values equal: every edge is that value; one bar of width 1 centred on it.
  const spread = stats.max > stats.min;
  const width = spread ? (stats.max - stats.min) / bins : 1;
  const lower = (i: number) => shortestFloat32(edges[i]);
  const upper = (i: number) => shortestFloat32(edges[spread ? i + 1 : i]);
  const trace: Data = {
    type: 'bar',
    x: Array.from(counts, (_, i) => (spread ? edges[i] + width / 2 : edges[i])),
    y: Array.from(counts),
    width: Array.from(counts, () => width),
    customdata: Array.from(counts, (_, i) => [lower(i), upper(i)]),
    hovertemplate: '[%{customdata[0]}, %{customdata[1]}]: %{y}<extra></extra>',
  };
  const left = stats.nonFinite ? `, ${formatCount(stats.nonFinite)} non-finite left out` : '';
  return new Figure(
    [trace],
    layout(options, { bargap: 0, yaxis: options.logY ? { type: 'log' } : {} }),
    `histogram of ${countOf(stats.count, 'value')}${titled(options)} in [${formatNumber(stats.min)}, ${formatNumber(stats.max)}], mean ${formatNumber(stats.mean)}, RMS ${formatNumber(stats.rms)}${left}`,
  );
}

export interface ScatterOptions extends PlotOptions {
  /** Hover text per point (e.g. token strings). */
  labels?: readonly string[];
  /** A number per point, shown as colour. */
  color?: ArrayLike<number>;
}

/** y against x, one marker per point. */
export function scatter(x: ArrayLike<number>, y: ArrayLike<number>, options: ScatterOptions = {}): Figure {
  if (x.length !== y.length) throw new Error(`x has ${x.length} values but y has ${y.length}: scatter needs one of each per point`);
  checkLabels('labels', options.labels, x.length, 'points');
  if (options.color && options.color.length !== x.length) throw new Error(`color has ${options.color.length} values but there are ${x.length} points`);
  checkSize('scatter', x.length * 2);
  const trace: Data = {
    type: 'scatter',
    mode: 'markers',
    x: jsonNumbers(x),
    y: jsonNumbers(y),
    ...(options.labels ? { text: [...options.labels], hovertemplate: '%{text}: (%{x}, %{y})<extra></extra>' } : {}),
    ...(options.color ? { marker: { color: jsonNumbers(options.color), colorscale: 'Viridis', showscale: true } } : {}),
  };
  return new Figure([trace], layout(options, {}), `scatter plot of ${countOf(x.length, 'point')}${titled(options)}`);
}

/** One bar per label. Labels may repeat (two identical tokens) and may look like numbers. */
export function bar(labels: readonly (string | number)[], values: ArrayLike<number>, options: PlotOptions = {}): Figure {
  if (labels.length !== values.length) throw new Error(`${countOf(labels.length, 'label')} but ${countOf(values.length, 'value')}: bar needs one label per value`);
  checkSize('bar', values.length);
  const text = labels.map(String);
  const trace: Data = {
    type: 'bar',
    x: text.map((_, i) => i),
    y: jsonNumbers(values),
    customdata: text,
    hovertemplate: '%{customdata}: %{y}<extra></extra>',
  };
  return new Figure([trace], layout(options, { xaxis: labelledAxis(text) }), `bar chart of ${countOf(values.length, 'value')}${titled(options)}`);
}

function layout(options: PlotOptions, extra: Partial<Layout>): Partial<Layout> {
  const axisTitle = (text: string | undefined) => (text === undefined ? {} : { title: { text } });
  return {
    // Plotly's default top margin (100 px) leaves a gap above an untitled plot.
    margin: { t: options.title === undefined ? 24 : 64 },
    ...extra,
    ...(options.title === undefined ? {} : { title: { text: options.title } }),
    ...(options.height === undefined ? {} : { height: options.height }),
    xaxis: { ...extra.xaxis, ...axisTitle(options.xTitle) },
    yaxis: { ...extra.yaxis, ...axisTitle(options.yTitle) },
  };
}

/**
 * Tick labels on positions 0..n-1 rather than a category axis: categories merge repeated labels
 * and turn '12' into the number 12.
 */
function labelledAxis(labels: readonly string[] | undefined): Partial<LayoutAxis> {
  return labels ? { tickmode: 'array', tickvals: labels.map((_, i) => i), ticktext: [...labels] } : {};
}

function titled(options: PlotOptions): string {
  return options.title ? ` "${options.title}"` : '';
}

function isSeries(y: ArrayLike<number> | Record<string, ArrayLike<number>>): y is Record<string, ArrayLike<number>> {
  return !Array.isArray(y) && !ArrayBuffer.isView(y);
}

function checkLabels(what: string, labels: readonly string[] | undefined, expected: number, of: string): void {
  if (labels && labels.length !== expected) throw new Error(`${what} has ${labels.length} labels but there are ${expected} ${of}`);
}

function checkSize(kind: string, values: number): void {
  if (values > MAX_FIGURE_VALUES) {
    throw new Error(
      `${kind}: ${formatCount(values)} values are too many for one notebook output (at most ${formatCount(MAX_FIGURE_VALUES)}; ` +
        'each is sent twice, as plotly JSON and in the HTML). Plot a slice (fewer rows or columns) or pool the values first.',
    );
  }
}
