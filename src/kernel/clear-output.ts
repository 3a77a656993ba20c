// clear_output for cells: `clearOutput()` empties the running cell's output area; with
// `{ wait: true }` the frontend clears only when the next output arrives, so redrawing by clearing
// and displaying again does not flicker. The display helpers (src/notebook/display.ts) have no clear
// of their own yet, so cells import this one:
//   import { clearOutput } from 'llamascope/src/kernel/clear-output'
// Outside the kernel (scripts, the CLI) there is no output area and it does nothing.

export type ClearHandler = (wait: boolean) => void;

let handler: ClearHandler | undefined;

export function clearOutput({ wait = false }: { wait?: boolean } = {}): void {
  handler?.(wait);
}

/** The kernel's side: where clear requests go (`undefined` when it shuts down). */
export function setClearHandler(next: ClearHandler | undefined): void {
  handler = next;
}
