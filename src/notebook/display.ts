// How library code shows things in a notebook without knowing about Jupyter.
//
// - An object renders itself by having a method under DISPLAY (Symbol.for('Jupyter.display'), the
//   convention Deno's kernel uses) returning a MIME bundle.
// - `display(x)` sends a bundle (or an object that renders itself) to the current sink and returns
//   a handle whose `update` replaces that output in place (Jupyter's display_id): progress bars,
//   streamed text.
// - The kernel installs its sink with `setDisplaySink`; outside a kernel (CLI, scripts, tests) the
//   default sink prints the text/plain part to stderr.

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

/** Install the sink (the kernel does, per cell); returns the previous one. `null` restores the default. */
export function setDisplaySink(next: DisplaySink | null): DisplaySink {
  const previous = sink;
  sink = next ?? defaultSink;
  return previous;
}

export function isDisplayable(x: unknown): x is Displayable {
  return typeof x === 'object' && x !== null && typeof (x as Partial<Displayable>)[DISPLAY] === 'function';
}

/** The bundle for any value: its own rendering if it has one, else text/plain. */
export function toBundle(x: unknown): MimeBundle {
  if (isDisplayable(x)) return x[DISPLAY]();
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
