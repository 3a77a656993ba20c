// The input history that history_request queries (consoles page through it with the up arrow).
// It lives in memory for the life of the kernel process, which is therefore one session.
// Semantics follow IPython's: lines are execution counts; 'range' is [start, stop); 'search' is a
// SQLite GLOB over the input (*, ?, [...]), 'n' keeps the last n matches, 'unique' drops repeats.
// Spec: https://jupyter-client.readthedocs.io/en/latest/messaging.html#history

export interface HistoryRequest {
  hist_access_type: 'tail' | 'range' | 'search';
  output?: boolean;
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}

export type HistoryItem = [session: number, line: number, input: string | [input: string, output: string | null]];

interface Entry {
  line: number;
  input: string;
  output: string | null;
}

export class History {
  /** IPython numbers sessions from 1; a request for session 0 means the current one. */
  readonly session = 1;
  private readonly entries: Entry[] = [];

  record(line: number, input: string): void {
    this.entries.push({ line, input, output: null });
  }

  /** The text/plain of the execute_result of `line`, which `output: true` requests return. */
  recordOutput(line: number, output: string): void {
    const entry = this.entries.find((e) => e.line === line);
    if (entry) entry.output = output;
  }

  query(request: HistoryRequest): HistoryItem[] {
    return this.select(request).map((e) => [this.session, e.line, request.output ? [e.input, e.output] : e.input]);
  }

  private select(request: HistoryRequest): Entry[] {
    switch (request.hist_access_type) {
      case 'tail':
        return lastN(this.entries, request.n ?? 10);
      case 'range': {
        if (request.session !== undefined && request.session !== 0 && request.session !== this.session) return [];
        const start = request.start ?? 1;
        const stop = request.stop ?? Infinity;
        return this.entries.filter((e) => e.line >= start && e.line < stop);
      }
      case 'search': {
        const pattern = globToRegExp(request.pattern ?? '*');
        let matches = this.entries.filter((e) => pattern.test(e.input));
        if (request.unique) matches = matches.filter((e, i) => !matches.slice(i + 1).some((later) => later.input === e.input));
        return request.n === undefined ? matches : lastN(matches, request.n);
      }
      default:
        return [];
    }
  }
}

function lastN<T>(items: T[], n: number): T[] {
  return n <= 0 ? [] : items.slice(-n);
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    const close = c === '[' ? glob.indexOf(']', i + 2) : -1;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else if (close > 0) {
      const body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
      source += `[${body}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
