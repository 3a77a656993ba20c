// A GGUF file as a notebook shows it: a header line (version, size, counts, validity), the
// metadata table (long arrays such as the vocabulary abbreviated) and the tensor table. GGUFFile
// lives in a lower layer, so index.ts registers this renderer for it (registerRenderer) instead of
// GGUFFile importing anything from here.

import { GGUFValueType, valueTypeName, type GGUFArray, type GGUFFile, type GGUFValue } from '../gguf';
import type { MimeBundle } from './display';
import { escapeHtml, formatBytes, formatCount, shortestFloat32, truncateText } from './format';

const PREVIEW_ITEMS = 8;
const PREVIEW_TEXT = 80;
/** Above this many tensors the tensor table starts folded. */
const OPEN_TENSOR_TABLE = 64;

export function ggufBundle(file: GGUFFile): MimeBundle {
  const types = new Map<string, number>();
  for (const t of file.tensors) types.set(t.type.name, (types.get(t.type.name) ?? 0) + 1);
  const typeCounts = [...types].map(([name, n]) => `${name} ×${n}`).join(', ');
  const headline = `GGUF v${file.version}, ${formatBytes(file.fileSize)}, ${formatCount(file.metadata.size)} metadata keys, ${formatCount(file.tensors.length)} tensors (${typeCounts})`;
  const validity = file.problems.length ? `${file.problems.length} problem(s)` : 'valid';
  const arch = file.get('general.architecture');
  const name = file.get('general.name');
  const identity = [typeof arch === 'string' ? `architecture ${arch}` : '', typeof name === 'string' ? `name ${JSON.stringify(name)}` : ''].filter(Boolean).join(', ');

  const text = [`${file.path}: ${headline}; ${validity}`, identity, ...file.problems.map((p) => `problem: ${p.message}`)].filter(Boolean).join('\n');

  const metadataRows = [...file.metadata]
    .map(([key, v]) => `<tr><td style="text-align:left">${escapeHtml(key)}</td><td style="text-align:left">${escapeHtml(typeLabel(v))}</td><td style="text-align:left">${escapeHtml(preview(v.value, v.type))}</td></tr>`)
    .join('\n');
  const tensorRows = file.tensors
    .map(
      (t, i) =>
        `<tr><td>${i}</td><td style="text-align:left">${escapeHtml(t.name)}</td><td>${escapeHtml(t.type.name)}</td><td>[${t.shape.join(', ')}]</td><td>${formatCount(t.nElements)}</td><td>${formatBytes(t.nBytes)}</td><td>${formatCount(t.offset)}</td></tr>`,
    )
    .join('\n');
  const problems = file.problems.map((p) => `<li>${escapeHtml(p.message)}</li>`).join('');
  const html = `<div class="llamascope-gguf">
<div><b>${escapeHtml(file.path)}</b> — ${escapeHtml(headline)}; <span style="color:${file.problems.length ? '#dc2626' : '#16a34a'}">${validity}</span></div>
${identity ? `<div>${escapeHtml(identity)}</div>` : ''}
${problems ? `<ul style="color:#dc2626">${problems}</ul>` : ''}
<details open><summary>${formatCount(file.metadata.size)} metadata keys</summary>
<table class="llamascope-gguf-metadata"><thead><tr><th>key</th><th>type</th><th>value</th></tr></thead>
<tbody>
${metadataRows}
</tbody></table></details>
<details${file.tensors.length <= OPEN_TENSOR_TABLE ? ' open' : ''}><summary>${formatCount(file.tensors.length)} tensors (shape innermost first, as ggml's ne)</summary>
<table class="llamascope-gguf-tensors"><thead><tr><th>#</th><th>name</th><th>type</th><th>shape</th><th>elements</th><th>size</th><th>offset</th></tr></thead>
<tbody>
${tensorRows}
</tbody></table></details>
</div>`;
  return { 'text/html': html, 'text/plain': text };
}

function typeLabel(v: GGUFValue): string {
  if (v.type !== GGUFValueType.ARRAY) return valueTypeName(v.type);
  const array = v.value as GGUFArray;
  return `array<${valueTypeName(array.itemType)}>[${formatCount(array.items.length)}]`;
}

/** A value in one short line: strings quoted and cut, arrays as their first items and a count. */
function preview(value: GGUFValue['value'] | GGUFArray['items'][number], type?: GGUFValueType): string {
  if (typeof value === 'string') return JSON.stringify(truncateText(value, PREVIEW_TEXT));
  if (typeof value === 'number') return String(type === GGUFValueType.FLOAT32 ? shortestFloat32(value) : value);
  if (typeof value !== 'object') return String(value);
  const items = value.items as ArrayLike<GGUFArray['items'][number]>;
  const shown = Array.from({ length: Math.min(items.length, PREVIEW_ITEMS) }, (_, i) => preview(items[i], value.itemType));
  const more = items.length - shown.length;
  return `[${shown.join(', ')}${more > 0 ? `, … ${formatCount(more)} more` : ''}]`;
}
