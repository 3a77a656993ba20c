// How library code shows things in a notebook without knowing about Jupyter.
//
// - An object renders itself by having a method under DISPLAY (Symbol.for('Jupyter.display'), the
//   convention Deno's kernel uses) returning a MIME bundle.
// - `display(x)` sends a bundle (or an object that renders itself) to the current sink and returns
//   a handle whose `update` replaces that output in place (Jupyter's display_id): progress bars,
//   streamed text.
// - The kernel installs its sink with `setDisplaySink`; outside a kernel (CLI, scripts, tests) the
//   default sink prints the text/plain part to stderr.
// - Classes of lower layers (GGUFFile, Arrow's Table) cannot import this file; the notebook layer
//   registers renderers for them with `registerRenderer`, and `toBundle` uses those too.
// - When the kernel passes the cell it is about to run (`setDisplaySink(sink, { cellId })`), code
//   whose output must stay in the saved notebook (the embedded plotly.js) learns, through
//   `onCellStart`, that an earlier output of that cell is about to be cleared.

export const DISPLAY: unique symbol = Symbol.for('Jupyter.display') as never;

/** MIME type -> data, e.g. { 'text/plain': '...', 'text/html': '<table>...', 'application/vnd.plotly.v1+json': {...} } */
export type MimeBundle = Record<string, unknown>;

export interface Displayable {
  [DISPLAY](): MimeBundle;
}

export interface DisplayMessage {
  bundle: MimeBundle;
  /** Present when the output can be updated later. */
  displayId?: string;
  /** true: replace the earlier output with this displayId; false: a new output. */
  update: boolean;
}

export type DisplaySink = (message: DisplayMessage) => void;

const defaultSink: DisplaySink = ({ bundle }) => {
  const text = bundle['text/plain'];
  if (typeof text === 'string') process.stderr.write(text.endsWith('\n') ? text : text + '\n');
};

let sink: DisplaySink = defaultSink;

/** The cell a kernel is about to run, as JupyterLab names it in execute_request's metadata. */
export interface CellInfo {
  /** metadata.cellId: re-running a cell clears its earlier outputs. */
  cellId?: string;
  /** metadata.deletedCells: cells removed since the last request, outputs and all. */
  deletedCellIds?: readonly string[];
}

const cellListeners: ((cell: CellInfo) => void)[] = [];

/**
 * Install the sink (the kernel does, per cell); returns the previous one. `null` restores the default.
 * With `cell`, listeners registered by `onCellStart` hear which cell is starting.
 */
export function setDisplaySink(next: DisplaySink | null, cell?: CellInfo): DisplaySink {
  const previous = sink;
  sink = next ?? defaultSink;
  if (next && cell) for (const listener of cellListeners) listener(cell);
  return previous;
}

/** Hear about each cell a kernel starts (only kernels that pass `CellInfo` to `setDisplaySink` tell). */
export function onCellStart(listener: (cell: CellInfo) => void): void {
  cellListeners.push(listener);
}

/** true while a kernel's (or a test's) sink is installed; false in scripts and the CLI. */
export function hasNotebookSink(): boolean {
  return sink !== defaultSink;
}

export function isDisplayable(x: unknown): x is Displayable {
  return typeof x === 'object' && x !== null && typeof (x as Partial<Displayable>)[DISPLAY] === 'function';
}

/** Any class, including ones with private constructors (matched with instanceof). */
type ClassOf<T> = Function & { prototype: T };
type Renderer = { type: ClassOf<unknown>; render: (x: never) => MimeBundle };
const renderers: Renderer[] = [];

/** Render every instance of `type` (a class that cannot carry a [DISPLAY] method itself) with `render`. */
export function registerRenderer<T>(type: ClassOf<T>, render: (x: T) => MimeBundle): void {
  renderers.push({ type, render: render as (x: never) => MimeBundle });
}

/** The bundle for any value: its own rendering if it has one, else a registered renderer's, else text/plain. */
export function toBundle(x: unknown): MimeBundle {
  if (isDisplayable(x)) return x[DISPLAY]();
  const renderer = renderers.find((r) => x instanceof r.type);
  if (renderer) return renderer.render(x as never);
  return { 'text/plain': typeof x === 'string' ? x : require('node:util').inspect(x, { depth: 4, colors: false }) };
}

export interface DisplayHandle {
  readonly displayId: string;
  update(x: unknown): void;
}

let counter = 0;

/** Show `x` now; update it in place later through the returned handle. */
export function display(x: unknown): DisplayHandle {
  const displayId = `llamascope-${process.pid}-${++counter}`;
  sink({ bundle: toBundle(x), displayId, update: false });
  return {
    displayId,
    update: (y: unknown) => sink({ bundle: toBundle(y), displayId, update: true }),
  };
}
