// A display sink that records what a kernel would send, and a tiny cell runner that turns those
// messages into nbformat outputs the way Jupyter frontends do (an update replaces the output with
// the same display_id).
import { setDisplaySink, toBundle, type CellInfo, type DisplayMessage, type MimeBundle } from '../../src/notebook/display';

export interface Capture {
  messages: DisplayMessage[];
  /** Put the previous sink back. */
  restore(): void;
}

export function captureDisplays(cell?: CellInfo): Capture {
  const messages: DisplayMessage[] = [];
  const previous = setDisplaySink((m) => messages.push(m), cell);
  return { messages, restore: () => setDisplaySink(previous) };
}

export interface NotebookOutput {
  output_type: 'display_data' | 'execute_result';
  data: MimeBundle;
  metadata: Record<string, never>;
  execution_count?: number;
}

/**
 * Run `code` as a kernel runs a cell: display() calls become display_data outputs (updated in place),
 * the returned value becomes the execute_result (unless undefined).
 */
export function runCell(cellId: string, executionCount: number, code: () => unknown): NotebookOutput[] {
  const outputs: (NotebookOutput & { displayId?: string })[] = [];
  const previous = setDisplaySink(({ bundle, displayId, update }) => {
    const at = update ? outputs.findIndex((o) => o.displayId === displayId) : -1;
    const output = { output_type: 'display_data' as const, data: bundle, metadata: {}, displayId };
    if (at >= 0) outputs[at] = output;
    else outputs.push(output);
  }, { cellId });
  try {
    const value = code();
    if (value !== undefined) outputs.push({ output_type: 'execute_result', data: toBundle(value), metadata: {}, execution_count: executionCount });
  } finally {
    setDisplaySink(previous);
  }
  return outputs.map(({ displayId: _, ...o }) => o);
}
