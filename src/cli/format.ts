// Output helpers shared by the CLI commands.

/** The shortest decimal that parses back to exactly this float32 (NaN and infinities as strings). */
export function float32Json(x: number): number | string {
  if (!Number.isFinite(x)) return String(x);
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return candidate;
  }
  return Number(x.toPrecision(9));
}

/** JSON that keeps bigints (as numbers when exact, else strings) and typed arrays (as arrays). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? x.toString() : x));
    return v;
  });
}

/** A plain-text table with aligned columns. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c]?.length ?? 0)));
  return cells.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

/** A short human rendering of a metadata value: long arrays are abbreviated. */
export function preview(value: unknown, max = 6): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value);
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    const shown = items.slice(0, max).map((v) => preview(v, 3));
    return `[${shown.join(', ')}${items.length > max ? `, ... (${items.length} items)` : ''}]`;
  }
  if (typeof value === 'number' && !Number.isInteger(value)) return String(float32Json(value));
  return String(value);
}

/** Parse "A:B" (either side optional) into [start, end) within [0, n). */
export function parseRange(text: string, n: number, what: string): [number, number] {
  const m = /^(\d*):(\d*)$/.exec(text) ?? /^(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${what} must look like A:B (e.g. 0:4), got '${text}'`);
  const start = m[1] === '' ? 0 : Number(m[1]);
  const end = m[2] === undefined ? start + 1 : m[2] === '' ? n : Number(m[2]);
  if (start > end || end > n) throw new UsageError(`${what} ${text} is outside 0:${n}`);
  return [start, end];
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
