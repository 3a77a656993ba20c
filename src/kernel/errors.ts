// How a failed cell is reported: Jupyter's error content (ename, evalue, traceback), built from what
// went wrong — a thrown value, TypeScript diagnostics (the cell did not compile, so none of it ran),
// an interrupt, or an earlier failure that kept the cell from running at all.
import * as path from 'node:path';
import { inspect, types } from 'node:util';

export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface CompileDiagnostic {
  /** '' for the cell itself, else the imported file (relative to the notebook) the problem is in. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

export function compileError(diagnostics: CompileDiagnostic[], code: string): CellError {
  const sourceLines = code.split('\n');
  const traceback = ['TypeScriptError: the cell did not compile, so none of it ran'];
  for (const d of diagnostics) {
    traceback.push(`${d.file ? `${d.file}, ` : ''}line ${d.line}, column ${d.column}: ${d.message}`);
    const source = d.file ? undefined : sourceLines[d.line - 1];
    if (source !== undefined) {
      // The caret keeps the source line's tabs so that it lines up under the column.
      const indent = source.slice(0, d.column - 1).replace(/[^\t]/g, ' ');
      traceback.push(`    ${source}`, `    ${indent}^`);
    }
  }
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '';
  return { ename: 'TypeScriptError', evalue: `${diagnostics[0]?.message ?? 'compilation failed'}${more}`, traceback };
}

export function thrownError(value: unknown): CellError {
  if (!isError(value)) {
    const text = inspect(value, { depth: 4 });
    return { ename: 'Uncaught', evalue: text, traceback: [`Uncaught ${text}`] };
  }
  return { ename: value.name || value.constructor.name, evalue: value.message, traceback: userStack(value) };
}

export function interruptError(): CellError {
  const evalue = 'the cell was interrupted; the kernel and what earlier cells defined are intact';
  return { ename: 'Interrupted', evalue, traceback: [`Interrupted: ${evalue}`] };
}

export function notRunError(failedExecution: number): CellError {
  const evalue = `not run, because cell [${failedExecution}] failed before it in the same run (stop_on_error)`;
  return { ename: 'NotRun', evalue, traceback: [`NotRun: ${evalue}`] };
}

/** A thrown value as text: an Error's stack without the kernel's own frames, anything else inspected. */
export function describeThrown(value: unknown): string {
  return isError(value) ? userStack(value).join('\n') : inspect(value, { depth: 4 });
}

// isNativeError also recognizes errors from other realms (vm contexts a cell creates).
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

// Frames from here down are the machinery that ran the cell (node:vm, tslab's executor, this kernel).
const KERNEL_DIR = __dirname + path.sep;
function isMachineryFrame(line: string): boolean {
  return /^\s+at /.test(line) && (line.includes('node:vm:') || /tslab[\\/]dist[\\/]/.test(line) || line.includes(KERNEL_DIR));
}

// vm puts "evalmachine.<anonymous>:LINE\n<source line>\n<caret>\n\n" before the stack of an error a
// cell throws; that source is the compiled JavaScript, not what the user wrote, so it is dropped.
const VM_SOURCE_EXCERPT = /^evalmachine\.<anonymous>:\d+\n[^\n]*\n[^\n]*\n\n/;

function userStack(error: Error): string[] {
  const lines = (error.stack ?? `${error.name}: ${error.message}`).replace(VM_SOURCE_EXCERPT, '').split('\n');
  const cut = lines.findIndex(isMachineryFrame);
  return cut < 0 ? lines : lines.slice(0, cut);
}
