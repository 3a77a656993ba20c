// The notebook layer: how llamascope's objects look in Jupyter, and Arrow export.
// Importing it registers renderers for classes of lower layers (GGUF files, Arrow tables), so a
// cell that ends in `openGGUF(path)` or `blockTable(f, name)` shows a table, not an object dump.

import { Table } from 'apache-arrow';
import { GGUFFile } from '../gguf';
import { registerRenderer } from './display';
import { ggufBundle } from './gguf';
import { tableBundle } from './table';
import { Tensor } from '../tensor';
import { tensorBundle } from './tensor';

registerRenderer(GGUFFile, ggufBundle);
registerRenderer(Table, (table) => tableBundle(table));
registerRenderer(Tensor, tensorBundle);

export {
  DISPLAY,
  display,
  toBundle,
  isDisplayable,
  setDisplaySink,
  onCellStart,
  hasNotebookSink,
  registerRenderer,
  type Displayable,
  type DisplayHandle,
  type DisplayMessage,
  type DisplaySink,
  type MimeBundle,
  type CellInfo,
} from './display';
export { Figure, PLOTLY_MIME } from './figure';
// plot.heatmap, plot.line, plot.histogram, plot.scatter, plot.bar (a namespace: inspect has its own `histogram`).
export * as plot from './plot';
export { embedPlotly, plotlyCarrierHtml, PLOTLY_VERSION } from './plotly-embed';
export { tableBundle, showTable, type TableOptions } from './table';
export { summaryBundle, tensorSummary, type TensorSummaryInput } from './summary';
export { progress, track, ProgressBar, type ProgressOptions } from './progress';
export { textStream, TextStream, type TextStreamOptions } from './stream';
export { arrowTable, writeArrow, statsTable, type ColumnValues, type FixedWidthRows, type TypedNumbers } from './arrow';
export { ggufBundle } from './gguf';
export { tensorBundle, summarize } from './tensor';
export type { Matrix, NdArrayLike, Values } from './arrays';
