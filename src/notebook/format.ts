// Text formatting shared by every notebook rendering: HTML escaping and numbers a reader can check
// against other tools (float32 values exactly, counts with separators).

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside HTML elements and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * The shortest decimal that reads back as exactly this float32 (at most 9 significant digits), so
 * a table or a hover label shows what the tensor holds, not float64 noise like 0.10000000149011612.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  const target = Math.fround(x);
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return candidate;
  }
  return Number(target.toPrecision(9));
}

/** An integer with thousands separators: 1,234,567. */
export function formatCount(n: number | bigint): string {
  return n.toLocaleString('en-US');
}

/** A count and its noun, singular or plural: "1 row", "1,024 rows". */
export function countOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : plural}`;
}

/** A number for a summary line: up to `digits` significant digits, no trailing zeros. */
export function formatNumber(x: number, digits = 5): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  return String(Number(x.toPrecision(digits)));
}

/** Bytes as B, KiB, MiB, GiB with three significant digits. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toPrecision(3)} ${units[unit]}`;
}

/** Seconds as m:ss or h:mm:ss, as progress bars show elapsed and remaining time. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}

/** `text` cut to `max` characters, the last one an ellipsis when cut. */
export function truncateText(text: string, max: number): string {
  const chars = Array.from(text); // code points, so a cut never splits a surrogate pair
  return chars.length <= max ? text : chars.slice(0, Math.max(0, max - 1)).join('') + '…';
}
