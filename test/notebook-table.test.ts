// Arrow tables as notebook output: truncation of rows, columns, lists and text as table.ts
// documents it, checked on the DOM Chromium builds from the HTML, and on the text rendering.
import { strict as assert } from 'node:assert';
import type { Browser, Page } from 'playwright-core';
import { arrowTable, showTable, tableBundle, toBundle, type ColumnValues } from '../src/notebook';
import { launchChromium, offlinePage } from './helpers/notebook-browser';

const ROWS = 1000;
/** 30 columns: an index, 27 numeric ones, a list column and a text column; the last column's name needs escaping. */
function wideTable() {
  const columns: Record<string, ColumnValues> = { id: Int32Array.from({ length: ROWS }, (_, i) => i) };
  for (let c = 1; c <= 27; c++) columns[`f${c}`] = Float32Array.from({ length: ROWS }, (_, i) => i / 10 + c);
  columns.codes = { values: Int8Array.from({ length: ROWS * 50 }, (_, i) => i % 50), width: 50 };
  columns['<text>'] = Array.from({ length: ROWS }, (_, i) => `row ${i} `.padEnd(100, 'x'));
  return arrowTable(columns);
}

interface Seen {
  caption: string;
  header: string[];
  rowNumbers: string[];
  gap: string | undefined;
  firstRow: string[];
}

async function dom(page: Page, html: string): Promise<Seen> {
  await page.setContent(`<!doctype html><meta charset="utf-8"><body>${html}</body>`);
  return page.evaluate<Seen>(`(() => {
    const rows = [...document.querySelectorAll('tbody tr')];
    return {
      caption: document.querySelector('caption')?.textContent ?? '',
      header: [...document.querySelectorAll('thead th')].map((th) => th.firstChild?.textContent ?? ''),
      rowNumbers: rows.map((r) => r.querySelector('th')?.textContent ?? ''),
      gap: rows.find((r) => r.querySelector('td[colspan]'))?.querySelector('td')?.textContent,
      firstRow: [...rows[0].querySelectorAll('td')].map((td) => td.textContent ?? ''),
    };
  })()`);
}

describe('notebook tables (Arrow → HTML and text, truncated)', () => {
  let browser: Browser;
  let page: Page;
  before(async () => {
    browser = await launchChromium();
    page = (await offlinePage(browser)).page;
  });
  after(async () => browser?.close());

  it('default: first 10 and last 10 rows, first 6 and last 6 columns, 8 list items, 60 characters', async () => {
    const table = wideTable();
    const seen = await dom(page, tableBundle(table)['text/html'] as string);
    assert.equal(seen.caption, 'Arrow table, 1,000 rows × 30 columns, 980 rows not shown, 18 columns not shown');
    assert.deepEqual(seen.header, ['', 'id', 'f1', 'f2', 'f3', 'f4', 'f5', '…', 'f24', 'f25', 'f26', 'f27', 'codes', '<text>']);
    assert.deepEqual(seen.rowNumbers, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '⋮', '990', '991', '992', '993', '994', '995', '996', '997', '998', '999']);
    assert.equal(seen.gap, '⋮ 980 rows not shown');
    assert.deepEqual(seen.firstRow, ['0', '1', '2', '3', '4', '5', '…', '24', '25', '26', '27', '[0, 1, 2, 3, 4, 5, 6, 7, … 42 more]', `row 0 ${'x'.repeat(53)}…`]);
    assert.equal(Array.from(seen.firstRow[12]).length, 60);
  });

  it('the text rendering truncates the same way and aligns its columns', () => {
    const text = (tableBundle(wideTable(), { maxColumns: 4 })['text/plain'] as string).split('\n');
    assert.equal(text[0], 'Arrow table, 1,000 rows × 30 columns, 980 rows not shown, 26 columns not shown');
    assert.deepEqual(text[1].split(/\s+/).filter(Boolean), ['id', 'f1', '…', 'codes', '<text>']);
    assert.deepEqual(text[2].split(/\s+/).filter(Boolean), ['Int32', 'Float32', 'FixedSizeList[50]<Int8>', 'Utf8']);
    assert.equal(text.length, 1 + 2 + 20 + 1);
    assert.equal(text[13], '⋮ 980 rows not shown');
    assert.ok(text[3].startsWith('0  ') && text[14].startsWith('990'));
    // Aligned: the list column starts at the same place on every row.
    const at = text[3].indexOf('[0, 1,');
    for (const line of [...text.slice(4, 13), ...text.slice(14)]) assert.equal(line.indexOf('['), at);
  });

  it('float32 values print as their shortest exact decimal', () => {
    const text = tableBundle(arrowTable({ x: Float32Array.from([0.1, 1 / 3, 16777217, -0]), y: Float64Array.from([0.1, 1 / 3, 16777217, -0]) }))['text/plain'] as string;
    const rows = text.split('\n').slice(3).map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((r) => r[1]), ['0.1', '0.33333334', '16777216', '0']);
    assert.deepEqual(rows.map((r) => r[2]), ['0.1', '0.3333333333333333', '16777217', '0']);
  });

  it('small tables are shown whole; options change the limits; a bad option says what it wants', async () => {
    const small = arrowTable({ a: Int32Array.from([1, 2, 3]) });
    const seen = await dom(page, tableBundle(small)['text/html'] as string);
    assert.equal(seen.caption, 'Arrow table, 3 rows × 1 column');
    assert.deepEqual(seen.rowNumbers, ['0', '1', '2']);
    assert.equal(seen.gap, undefined);
    const custom = await dom(page, toBundle(showTable(wideTable(), { maxRows: 5, maxColumns: 2, maxListItems: 2, title: 'blocks' }))['text/html'] as string);
    assert.deepEqual(custom.rowNumbers, ['0', '1', '2', '⋮', '998', '999']);
    assert.deepEqual(custom.header, ['', 'id', '…', '<text>']);
    assert.match(custom.caption, /^blocks: Arrow table/);
    assert.throws(() => tableBundle(small, { maxRows: 0 }), /maxRows must be a positive integer, got 0/);
  });

  it('a cell ending in an Arrow table shows this rendering (registered renderer)', () => {
    const table = arrowTable({ a: Int32Array.from([1]) });
    assert.deepEqual(toBundle(table), tableBundle(table));
  });
});
