// A tensor at a glance: shape, dtype and backend, min/max/mean/RMS, and a small histogram (an
// inline SVG in HTML, Unicode bars in text). It takes plain data — values, shape, strings — so the
// tensor library can hand its tensors over without this layer knowing its classes.

import { tensorStats } from '../inspect/stats';
import { flatValues, isNdArray, shapeOf, type Values } from './arrays';
import { DISPLAY, type Displayable, type MimeBundle } from './display';
import { escapeHtml, formatCount, formatNumber, shortestFloat32 } from './format';

export interface TensorSummaryInput {
  /** Values in row-major order (or an ndarray, which brings its own shape). */
  values: Values;
  /** Required unless `values` is an ndarray. */
  shape?: readonly number[];
  /** e.g. 'f32', 'q8_0'. */
  dtype: string;
  /** e.g. 'cpu', 'webgpu'. */
  backend: string;
  name?: string;
  /** Histogram bins (default 32). */
  bins?: number;
}

const SPARK = ' ▁▂▃▄▅▆▇█';

export function summaryBundle(input: TensorSummaryInput): MimeBundle {
  const shape = input.shape ? [...input.shape] : isNdArray(input.values) ? shapeOf(input.values) : undefined;
  if (!shape) throw new Error('a summary needs the shape: pass `shape` with flat values, or an ndarray');
  const flat = flatValues(input.values);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== expected) throw new Error(`shape [${shape.join(', ')}] holds ${formatCount(expected)} values, but ${formatCount(flat.length)} were given`);
  // tensorStats bins float32, like the tensors it was made for.
  const stats = tensorStats(flat instanceof Float32Array ? flat : Float32Array.from(flat), flat.length, input.bins ?? 32);
  const { counts, edges } = stats.histogram;
  const peak = Math.max(1, ...counts);

  const head = `${input.name ? `${input.name}  ` : ''}[${shape.join(', ')}] ${input.dtype} on ${input.backend}`;
  const numbers: [string, string][] = stats.count
    ? [
        ['min', formatNumber(stats.min)],
        ['max', formatNumber(stats.max)],
        ['mean', formatNumber(stats.mean)],
        ['RMS', formatNumber(stats.rms)],
        ['std', formatNumber(stats.std)],
      ]
    : [];
  numbers.push(['values', formatCount(flat.length)]);
  if (stats.nonFinite) numbers.push(['non-finite', formatCount(stats.nonFinite)]);

  const spark = stats.count ? Array.from(counts, (c) => SPARK[c === 0 ? 0 : Math.max(1, Math.round((c / peak) * 8))]).join('') : '';
  const text = [head, numbers.map(([k, v]) => `${k} ${v}`).join('  '), ...(spark ? [`${spark}  [${formatNumber(stats.min)}, ${formatNumber(stats.max)}]`] : [])].join('\n');

  const cells = numbers.map(([k, v]) => `<span style="margin-right:1.2em"><span style="color:#6b7280">${k}</span> ${v}</span>`).join('');
  const svg = stats.count ? histogramSvg(counts, edges, peak, stats.min, stats.max) : '';
  const html = `<div class="llamascope-summary" style="font-family:monospace;line-height:1.5">
<div><b>${escapeHtml(input.name ?? 'tensor')}</b> [${shape.join(', ')}] <span style="color:#6b7280">${escapeHtml(input.dtype)} on ${escapeHtml(input.backend)}</span></div>
<div>${cells}</div>
${svg}
</div>`;
  return { 'text/html': html, 'text/plain': text };
}

/** The summary as an object a notebook cell can end with. */
export function tensorSummary(input: TensorSummaryInput): Displayable {
  return { [DISPLAY]: () => summaryBundle(input) };
}

/** Bars 6 px wide, 48 px tall at the peak; each bar's tooltip gives its range and count. */
function histogramSvg(counts: Uint32Array, edges: Float64Array, peak: number, min: number, max: number): string {
  const barWidth = 6;
  const height = 48;
  const width = counts.length * barWidth;
  const bars = Array.from(counts, (c, i) => {
    const h = c === 0 ? 0 : Math.max(1, (c / peak) * height);
    const range = `[${shortestFloat32(edges[i])}, ${shortestFloat32(edges[i + 1])}]: ${formatCount(c)}`;
    return `<rect x="${i * barWidth}" y="${(height - h).toFixed(2)}" width="${barWidth - 1}" height="${h.toFixed(2)}" fill="#3b82f6"><title>${range}</title></rect>`;
  }).join('');
  return `<svg class="llamascope-histogram" width="${width}" height="${height + 14}" viewBox="0 0 ${width} ${height + 14}" xmlns="http://www.w3.org/2000/svg">
${bars}
<text x="0" y="${height + 12}" font-size="10" fill="#6b7280">${escapeHtml(formatNumber(min))}</text>
<text x="${width}" y="${height + 12}" font-size="10" fill="#6b7280" text-anchor="end">${escapeHtml(formatNumber(max))}</text>
</svg>`;
}
