// A Plotly figure that renders itself in a notebook as three MIME types:
// - application/vnd.plotly.v1+json for frontends with a Plotly renderer (JupyterLab + plotly extension);
// - text/html that draws with the plotly.js embedded in the notebook (plotly-embed.ts): everywhere
//   else, including `jupyter nbconvert --to html`, offline;
// - text/plain, a one-line description, for consoles and logs.

import { randomUUID } from 'node:crypto';
import type { Config, Data, Layout } from 'plotly.js-dist';
import { DISPLAY, type Displayable, type MimeBundle } from './display';
import { escapeHtml } from './format';
import { PLOTLY_QUEUE, PLOTLY_VERSION, ensurePlotlyEmbedded } from './plotly-embed';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

const DEFAULT_HEIGHT = 420;
const CONFIG: Partial<Config> = { responsive: true, displaylogo: false };

/** Shown in place of the plot until plotly.js draws it; stays if it never can. */
const FALLBACK =
  `This plot is drawn by plotly.js ${PLOTLY_VERSION}, embedded once in the notebook. If this text stays, ` +
  'either the notebook is not trusted (its scripts do not run) or the output that carried plotly.js was ' +
  'cleared: run embedPlotly() from llamascope in any cell, then save.';

export class Figure implements Displayable {
  /** `description` is the text/plain rendering: what is plotted, in one line. */
  constructor(
    readonly data: Data[],
    readonly layout: Partial<Layout> = {},
    readonly description = `plotly figure with ${data.length} trace(s)`,
  ) {}

  /** The figure as Plotly's JSON schema has it (what the plotly MIME type carries). */
  toJSON(): { data: Data[]; layout: Partial<Layout>; config: Partial<Config> } {
    return { data: this.data, layout: { height: DEFAULT_HEIGHT, autosize: true, ...this.layout }, config: CONFIG };
  }

  /** A <div> and the script that draws into it once plotly.js is on the page. */
  toHTML(): string {
    const figure = this.toJSON();
    const id = `llamascope-plot-${randomUUID()}`;
    // '<' escaped so no string in the data can end the <script> element early.
    const json = JSON.stringify(figure).replace(/</g, '\\u003c');
    return `<div id="${id}" class="llamascope-plot" style="width:100%;height:${figure.layout.height}px">
<p style="color:#6b7280;font:13px sans-serif;padding:1em">${escapeHtml(FALLBACK)}</p></div>
<script>(function () {
  var figure = ${json};
  function draw() {
    var element = document.getElementById(${JSON.stringify(id)});
    if (!element) return;
    element.textContent = '';
    window.Plotly.newPlot(element, figure.data, figure.layout, figure.config);
  }
  if (window.Plotly) draw();
  else (window.${PLOTLY_QUEUE} = window.${PLOTLY_QUEUE} || []).push(draw);
})();</script>`;
  }

  [DISPLAY](): MimeBundle {
    ensurePlotlyEmbedded();
    return { [PLOTLY_MIME]: this.toJSON(), 'text/html': this.toHTML(), 'text/plain': this.description };
  }
}
