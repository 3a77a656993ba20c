// An Apache Arrow table as HTML and aligned text, truncated so a million-row block table is one
// screen:
// - rows: more than maxRows (20) → the first ceil(maxRows/2) and the last floor(maxRows/2), with a
//   "⋮ N rows not shown" row between;
// - columns: more than maxColumns (12) → the first ceil and last floor halves, with a "…" column;
// - lists (a block's 256 quant codes): the first maxListItems (8), then "… N more";
// - text: cut to maxTextLength (60) characters, ending in "…".
// Every row keeps its row number, so what is shown can be found again. Float32 values print as the
// shortest decimal that reads back exactly.

import { DataType, Precision, type Field, type Table, type Vector } from 'apache-arrow';
import { DISPLAY, type Displayable, type MimeBundle } from './display';
import { countOf, escapeHtml, formatCount, shortestFloat32, truncateText } from './format';

export interface TableOptions {
  maxRows?: number;
  maxColumns?: number;
  maxListItems?: number;
  maxTextLength?: number;
  /** Shown above the table. */
  title?: string;
}

const DEFAULTS: Required<Omit<TableOptions, 'title'>> = { maxRows: 20, maxColumns: 12, maxListItems: 8, maxTextLength: 60 };

/** Row or column indices to show; `null` marks where the hidden ones are. */
type Selection = (number | null)[];

function select(count: number, max: number): Selection {
  if (count <= max) return Array.from({ length: count }, (_, i) => i);
  const head = Math.ceil(max / 2);
  const tail = Math.floor(max / 2);
  return [...Array.from({ length: head }, (_, i) => i), null, ...Array.from({ length: tail }, (_, i) => count - tail + i)];
}

/** The table's HTML and text renderings (what a notebook shows for any Arrow table). */
export function tableBundle(table: Table, options: TableOptions = {}): MimeBundle {
  const o = { ...DEFAULTS, ...options };
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    if (!(Number.isInteger(o[key]) && o[key] >= 1)) throw new Error(`${key} must be a positive integer, got ${o[key]}`);
  }
  const rows = select(table.numRows, o.maxRows);
  const columns = select(table.numCols, o.maxColumns);
  const fields = table.schema.fields;
  const cell = (r: number, c: number): string => formatValue(table.getChildAt(c)?.get(r), fields[c].type, o);
  const caption = describe(table, rows, columns, o.title);
  return { 'text/html': toHtml(caption, fields, rows, columns, cell, table.numRows), 'text/plain': toText(caption, fields, rows, columns, cell, table.numRows) };
}

/** A table with non-default truncation, for `display(showTable(t, { maxRows: 100 }))`. */
export function showTable(table: Table, options: TableOptions = {}): Displayable {
  return { [DISPLAY]: () => tableBundle(table, options) };
}

function describe(table: Table, rows: Selection, columns: Selection, title: string | undefined): string {
  const parts = [`${countOf(table.numRows, 'row')} × ${countOf(table.numCols, 'column')}`];
  const hiddenRows = table.numRows - rows.filter((r) => r !== null).length;
  const hiddenColumns = table.numCols - columns.filter((c) => c !== null).length;
  if (hiddenRows) parts.push(`${countOf(hiddenRows, 'row')} not shown`);
  if (hiddenColumns) parts.push(`${countOf(hiddenColumns, 'column')} not shown`);
  return `${title ? `${title}: ` : ''}Arrow table, ${parts.join(', ')}`;
}

function toHtml(caption: string, fields: Field[], rows: Selection, columns: Selection, cell: (r: number, c: number) => string, numRows: number): string {
  const typeStyle = 'font-weight:normal;color:#6b7280;font-size:85%';
  const header = columns
    .map((c) => (c === null ? '<th>…</th>' : `<th>${escapeHtml(fields[c].name)}<br><span style="${typeStyle}">${escapeHtml(String(fields[c].type))}</span></th>`))
    .join('');
  const hidden = numRows - rows.filter((r) => r !== null).length;
  const body = rows
    .map((r) =>
      r === null
        ? `<tr><th>⋮</th><td colspan="${columns.length}" style="text-align:center">⋮ ${countOf(hidden, 'row')} not shown</td></tr>`
        : `<tr><th>${r}</th>${columns.map((c) => `<td>${c === null ? '…' : escapeHtml(cell(r, c))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table class="llamascope-table">
<caption style="caption-side:top;text-align:left">${escapeHtml(caption)}</caption>
<thead><tr><th></th>${header}</tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

function toText(caption: string, fields: Field[], rows: Selection, columns: Selection, cell: (r: number, c: number) => string, numRows: number): string {
  const hidden = numRows - rows.filter((r) => r !== null).length;
  const grid: string[][] = [
    ['', ...columns.map((c) => (c === null ? '…' : fields[c].name))],
    ['', ...columns.map((c) => (c === null ? '' : String(fields[c].type)))],
    ...rows.filter((r): r is number => r !== null).map((r) => [String(r), ...columns.map((c) => (c === null ? '…' : cell(r, c)))]),
  ];
  const width = (s: string) => Array.from(s).length;
  const widths = grid[0].map((_, c) => Math.max(...grid.map((line) => width(line[c]))));
  const aligned = grid.map((line) => line.map((s, c) => s + ' '.repeat(widths[c] - width(s))).join('  ').trimEnd());
  const gapAt = rows.indexOf(null);
  if (gapAt >= 0) aligned.splice(2 + gapAt, 0, `⋮ ${countOf(hidden, 'row')} not shown`);
  return [caption, ...aligned].join('\n');
}

/** One value of a column of type `type`, as short text. */
function formatValue(value: unknown, type: DataType, o: Required<Omit<TableOptions, 'title'>>): string {
  if (value === null || value === undefined) return 'null';
  if (DataType.isFloat(type)) return String(type.precision === Precision.DOUBLE ? (value as number) : shortestFloat32(value as number));
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
    const items = value as Vector;
    const itemType = type.children[0].type;
    const shown = Array.from({ length: Math.min(items.length, o.maxListItems) }, (_, i) => formatValue(items.get(i), itemType, o));
    const more = items.length - shown.length;
    return `[${shown.join(', ')}${more > 0 ? `, … ${formatCount(more)} more` : ''}]`;
  }
  if (typeof value === 'string') return truncateText(value, o.maxTextLength);
  if (typeof value === 'object' && 'toJSON' in value) {
    return truncateText(JSON.stringify((value as { toJSON(): unknown }).toJSON(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v)), o.maxTextLength);
  }
  return truncateText(String(value), o.maxTextLength);
}
