// plotly.js inside the notebook itself: offline (no CDN), once, and robust to how notebooks live.
//
// Design. plotly.js travels as an output of its own, the *carrier*: a <script> that defines
// window.Plotly unless the page already has it, then draws every figure that was waiting. Each
// figure's HTML (figure.ts) draws at once when window.Plotly exists, else queues itself on
// window[PLOTLY_QUEUE]. So document order does not matter (a notebook run out of order, or an HTML
// export whose carrier sits below the first plot, still draws everything), and a figure never
// carries 5 MB of JavaScript itself.
//
// The carrier is shown just before the first figure of a kernel process, as a separate output, so
// updating a figure in place (display handle) never removes it. Its output can still disappear:
// - the cell that carried it runs again (its outputs are cleared): when the kernel passes cell ids
//   (`setDisplaySink(sink, { cellId })`, as JupyterLab sends them) the next figure re-embeds it;
// - the cell is deleted (JupyterLab's deletedCells): same;
// - outputs cleared by hand, or the cell removed from an export: each figure then keeps its
//   fallback text, which says to run `embedPlotly()` — that shows the carrier again.
// Live, window.Plotly stays defined in the page once loaded, so plots keep working until reload;
// the rules above are about the *saved* notebook and its HTML export.
//
// Size: plotly.js-dist is 10 MB; minified here with esbuild (the compiler tsx runs on, so always
// installed) it is 4.8 MB, once per notebook. The license header is kept.

import * as fs from 'node:fs';
import { transformSync } from 'esbuild';
import { DISPLAY, display, hasNotebookSink, onCellStart, type Displayable, type MimeBundle } from './display';

/** The global both scripts share: figures that wait for plotly.js. */
export const PLOTLY_QUEUE = 'llamascopePlotlyQueue';

const plotlyPath = require.resolve('plotly.js-dist');
export const PLOTLY_VERSION: string = (require('plotly.js-dist/package.json') as { version: string }).version;

let carrierHtml: string | undefined;

/** The carrier's HTML: plotly.js (defined once per page) and the drain of waiting figures. Built on first use (~1 s). */
export function plotlyCarrierHtml(): string {
  carrierHtml ??= [
    '<script>',
    licenseHeader(),
    'if (!window.Plotly) {',
    scriptSafe(transformSync(fs.readFileSync(plotlyPath, 'utf8'), { minify: true }).code),
    '}',
    `(function () {
  var waiting = window.${PLOTLY_QUEUE} || [];
  window.${PLOTLY_QUEUE} = [];
  for (var i = 0; i < waiting.length; i++) {
    try { waiting[i](); } catch (e) { console.error(e); }
  }
})();`,
    '</script>',
  ].join('\n');
  return carrierHtml;
}

/** plotly.js's own header comment (copyright, MIT), which the minifier drops. */
function licenseHeader(): string {
  const text = fs.readFileSync(plotlyPath, 'utf8').slice(0, 2000);
  const end = text.indexOf('*/');
  if (!text.startsWith('/**') || end < 0) throw new Error(`${plotlyPath} no longer starts with its license comment; check the plotly.js-dist upgrade`);
  return text.slice(0, end + 2);
}

/**
 * JavaScript safe inside an inline <script>: the HTML parser ends the element at `</script` and
 * treats `<!--` specially wherever they appear. Escaping the slash and the bang keeps the same
 * string, regular expression or comment text in JavaScript.
 */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

const carrier: Displayable = {
  [DISPLAY]: (): MimeBundle => ({
    'text/html': plotlyCarrierHtml(),
    'text/plain': `(plotly.js ${PLOTLY_VERSION}, embedded once for the plots of this notebook)`,
  }),
};

/** Which cell's output holds the carrier; undefined: none known to be in the notebook. */
let carrierCell: { cellId: string | undefined } | undefined;
let runningCellId: string | undefined;

onCellStart(({ cellId, deletedCellIds }) => {
  runningCellId = cellId;
  const held = carrierCell?.cellId;
  if (held !== undefined && (held === cellId || deletedCellIds?.includes(held))) carrierCell = undefined;
});

/** Show plotly.js as an output of the running cell now (after outputs were cleared by hand, say). */
export function embedPlotly(): void {
  display(carrier);
  carrierCell = { cellId: runningCellId };
}

/** Each figure calls this as it renders: embeds the carrier unless the notebook already holds one. */
export function ensurePlotlyEmbedded(): void {
  if (!carrierCell && hasNotebookSink()) embedPlotly();
}
