// A hexdump of any byte range of a GGUF file, each line saying what the bytes belong to:
// the header and directory, alignment padding, or which tensor (and which block of it).

import type { GGUFFile } from '../gguf';

export interface HexdumpLine {
  offset: number;
  bytes: Uint8Array;
  /** e.g. "blk.0.attn_q.weight +36 (block 1, byte 2 of 18)" */
  region: string;
}

export function hexdumpLines(file: GGUFFile, offset: number, length: number, width = 16): HexdumpLine[] {
  const bytes = file.readBytes(offset, length);
  const lines: HexdumpLine[] = [];
  for (let at = 0; at < bytes.length; at += width) {
    lines.push({ offset: offset + at, bytes: bytes.subarray(at, at + width), region: describe(file, offset + at) });
  }
  return lines;
}

export function hexdump(file: GGUFFile, offset: number, length: number, width = 16): string {
  return hexdumpLines(file, offset, length, width)
    .map((l) => {
      const hex = Array.from(l.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(width * 3 - 1);
      const ascii = Array.from(l.bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('').padEnd(width);
      return `${l.offset.toString(16).padStart(8, '0')}  ${hex}  |${ascii}|  ${l.region}`;
    })
    .join('\n');
}

function describe(file: GGUFFile, offset: number): string {
  const r = file.regionAt(offset);
  switch (r.kind) {
    case 'header':
      return 'header / metadata / tensor directory';
    case 'padding':
      return 'alignment padding';
    case 'outside':
      return 'past the end of the file';
    case 'tensor': {
      const { tensor: t, offsetInTensor: at } = r;
      const block = Math.floor(at / t.type.typeSize);
      return `${t.name} +${at} (${t.type.name} block ${block}, byte ${at % t.type.typeSize} of ${t.type.typeSize})`;
    }
  }
}
