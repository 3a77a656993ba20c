// Runs cells with tslab's TypeScript executor (type-check, transpile, run; declarations carry over from
// cell to cell) and turns what it reports into outcomes the kernel can send.
//
// tslab's executor (tslab/dist/executor.js, 1.0.22) resolves execute() to false on failure and says
// what happened through the console object it is given: log(value) receives the value of the cell's
// last expression (only when it is neither null nor undefined); error(...) receives a thrown value,
// or per TypeScript diagnostic the arguments ('%s%d:%d - %s', file, line, column, message).
import { createConverter, type Converter } from 'tslab/dist/converter';
import { createExecutor, type ConverterSet, type Executor } from 'tslab/dist/executor';
import { printQuickInfo } from 'tslab/dist/inspect';
import { compileError, interruptError, thrownError, type CellError, type CompileDiagnostic } from './errors';

export type CellOutcome =
  /** `result` is absent when the cell ends in a statement or its last expression is null/undefined. */
  | { ok: true; result?: { value: unknown } }
  | { ok: false; error: CellError };

export interface Completion {
  /** UTF-16 offsets of the text the matches replace. */
  start: number;
  end: number;
  matches: string[];
}

const DIAGNOSTIC_FORMAT = '%s%d:%d - %s';

export class CellRunner {
  private readonly converters = lazyConverters();
  private readonly executor: Executor;
  private running = false;
  private interrupted = false;
  private result: { value: unknown } | undefined;
  private readonly thrown: unknown[] = [];
  private readonly diagnostics: CompileDiagnostic[] = [];

  /**
   * `rootDir`: where cells' relative imports start; it must be the working directory, where tslab's
   * compiler starts them (Jupyter starts the kernel in the notebook's directory).
   */
  constructor(rootDir: string) {
    void this.converters.node; // The TypeScript program takes seconds to build: do it before the first cell.
    this.executor = createExecutor(rootDir, this.converters, {
      log: (value: unknown) => {
        this.result = { value };
      },
      error: (...args: unknown[]) => {
        if (args[0] === DIAGNOSTIC_FORMAT && args.length === 5) {
          const [, file, line, column, message] = args as [string, string, number, number, string];
          this.diagnostics.push({ file: file.trim(), line, column, message });
        } else {
          this.thrown.push(args[0]);
        }
      },
    });
  }

  async run(code: string): Promise<CellOutcome> {
    this.result = undefined;
    this.thrown.length = 0;
    this.diagnostics.length = 0;
    this.interrupted = false;
    this.running = true;
    let ok: boolean;
    try {
      ok = await this.executor.execute(code);
    } catch (e) {
      // tslab itself failed (e.g. the compiler on odd input): still the cell's error, not the kernel's.
      ok = false;
      this.thrown.push(e);
    } finally {
      this.running = false;
    }
    if (ok) return { ok: true, result: this.result };
    if (this.interrupted || this.thrown.some(isSigintInterruption)) return { ok: false, error: interruptError() };
    if (this.diagnostics.length > 0) return { ok: false, error: compileError(this.diagnostics, code) };
    return { ok: false, error: thrownError(this.thrown[0]) };
  }

  /**
   * Stops the running cell if it is waiting (top-level await). A cell that computes synchronously is
   * stopped by the SIGINT itself: tslab runs cells with vm's breakOnSigint.
   */
  interrupt(): void {
    if (!this.running) return;
    this.interrupted = true;
    this.executor.interrupt();
  }

  complete(code: string, offset: number): Completion {
    const { start, end, candidates } = this.executor.complete(code, offset);
    return { start, end, matches: candidates };
  }

  /** What TypeScript knows about the symbol at `offset` (signature and doc comment), if anything. */
  inspect(code: string, offset: number): string | undefined {
    // Frontends put the cursor just after the name; TypeScript wants a position inside it.
    const info = this.executor.inspect(code, offset) ?? (offset > 0 ? this.executor.inspect(code, offset - 1) : undefined);
    return info ? printQuickInfo(info) : undefined;
  }

  close(): void {
    this.executor.close();
  }
}

function isSigintInterruption(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
}

// tslab's executor wants a converter for Node cells and one for `//@mode: browser` cells; build each
// only when first needed, as tslab's own kernel does.
function lazyConverters(): ConverterSet {
  let node: Converter | undefined;
  let browser: Converter | undefined;
  return {
    get node() {
      return (node ??= createConverter({ isJS: false, isBrowser: false }));
    },
    get browser() {
      return (browser ??= createConverter({ isJS: false, isBrowser: true }));
    },
    close() {
      node?.close();
      browser?.close();
    },
  };
}
