// `doctor`: the validation of a GGUF file explained for humans. Each problem the reader finds
// becomes a finding with what the numbers mean, what most likely produced them, and the bytes
// around the spot. Seed 004 spent a session concluding that a file used "non-standard 16-byte Q4_0
// blocks"; the finding for that file says the data is 2 bytes per block short of Q4_0's 18, which
// is a Q4_0 block without its f16 scale: most likely a writer's mistake rather than a format.

import * as fs from 'node:fs';
import { GGUFError, alignUp, describeSize, openGGUF, type GGUFErrorCode, type GGUFFile, type GGUFTensorInfo } from '../gguf';
import { GGML_TYPES, byteSize, type GGMLTypeInfo } from '../quant';
import { hexdump } from './hexdump';

export interface DoctorFinding {
  code: GGUFErrorCode;
  /** The reader's one-line message. */
  message: string;
  /** What the numbers mean and what likely happened, one sentence per entry. */
  explanation: string[];
  /** Where the bytes shown start, and the annotated hexdump itself. */
  offset?: number;
  hexdump?: string;
}

export interface DoctorReport {
  path: string;
  valid: boolean;
  /** What the file is (when its header and directory could be read). */
  summary: string[];
  findings: DoctorFinding[];
}

/** The fields of one block of each type, in file order, with their sizes (ggml/src/ggml-common.h). */
const BLOCK_ANATOMY: Record<string, { bytes: number; what: string; scale?: true }[]> = {
  F32: [{ bytes: 4, what: 'float32 value' }],
  F16: [{ bytes: 2, what: 'IEEE half value' }],
  BF16: [{ bytes: 2, what: 'bfloat16 value' }],
  Q4_0: [{ bytes: 2, what: 'f16 scale d', scale: true }, { bytes: 16, what: '4-bit quants' }],
  Q4_1: [{ bytes: 2, what: 'f16 scale d', scale: true }, { bytes: 2, what: 'f16 minimum m', scale: true }, { bytes: 16, what: '4-bit quants' }],
  Q5_0: [{ bytes: 2, what: 'f16 scale d', scale: true }, { bytes: 4, what: 'fifth bits' }, { bytes: 16, what: 'low 4 bits' }],
  Q5_1: [{ bytes: 2, what: 'f16 scale d', scale: true }, { bytes: 2, what: 'f16 minimum m', scale: true }, { bytes: 4, what: 'fifth bits' }, { bytes: 16, what: 'low 4 bits' }],
  Q8_0: [{ bytes: 2, what: 'f16 scale d', scale: true }, { bytes: 32, what: '8-bit quants' }],
  Q8_1: [{ bytes: 2, what: 'f16 scale d', scale: true }, { bytes: 2, what: 'f16 sum s', scale: true }, { bytes: 32, what: '8-bit quants' }],
  Q2_K: [{ bytes: 16, what: '4-bit sub-block scales and mins' }, { bytes: 64, what: '2-bit quants' }, { bytes: 2, what: 'f16 d', scale: true }, { bytes: 2, what: 'f16 dmin', scale: true }],
  Q3_K: [{ bytes: 32, what: 'high bits' }, { bytes: 64, what: 'low 2 bits' }, { bytes: 12, what: '6-bit sub-block scales' }, { bytes: 2, what: 'f16 d', scale: true }],
  Q4_K: [{ bytes: 2, what: 'f16 d', scale: true }, { bytes: 2, what: 'f16 dmin', scale: true }, { bytes: 12, what: '6-bit sub-block scales and mins' }, { bytes: 128, what: '4-bit quants' }],
  Q5_K: [{ bytes: 2, what: 'f16 d', scale: true }, { bytes: 2, what: 'f16 dmin', scale: true }, { bytes: 12, what: '6-bit sub-block scales and mins' }, { bytes: 32, what: 'fifth bits' }, { bytes: 128, what: 'low 4 bits' }],
  Q6_K: [{ bytes: 128, what: 'low 4 bits' }, { bytes: 64, what: 'high 2 bits' }, { bytes: 16, what: '8-bit sub-block scales' }, { bytes: 2, what: 'f16 d', scale: true }],
  Q8_K: [{ bytes: 4, what: 'f32 scale d', scale: true }, { bytes: 256, what: '8-bit quants' }, { bytes: 32, what: '16-bit sums of 16' }],
  IQ4_NL: [{ bytes: 2, what: 'f16 scale d', scale: true }, { bytes: 16, what: '4-bit level indices' }],
  IQ4_XS: [{ bytes: 2, what: 'f16 d', scale: true }, { bytes: 2, what: 'high scale bits' }, { bytes: 4, what: 'low scale bits' }, { bytes: 128, what: '4-bit level indices' }],
};

/** "a Q4_0 block (32 values) is 18 bytes: f16 scale d (2) + 4-bit quants (16)" */
export function describeBlock(type: GGMLTypeInfo): string {
  const parts = BLOCK_ANATOMY[type.name];
  const unit = type.blockSize === 1 ? `${article(type.name)} ${type.name} value` : `${article(type.name)} ${type.name} block (${type.blockSize} values)`;
  const inside = parts && parts.length > 1 ? `: ${parts.map((p) => `${p.what} (${p.bytes})`).join(' + ')}` : parts ? ` (${parts[0].what})` : '';
  return `${unit} is ${type.typeSize} bytes${inside}`;
}

export function doctor(path: string): DoctorReport {
  let file: GGUFFile;
  try {
    file = openGGUF(path, { strict: false });
  } catch (e) {
    if (!(e instanceof GGUFError)) throw e;
    return { path, valid: false, summary: [], findings: [headerFinding(path, e)] };
  }
  try {
    const findings = file.problems.map((p) => directoryFinding(file, p));
    return { path, valid: findings.length === 0, summary: summarize(file), findings };
  } finally {
    file.close();
  }
}

export function formatDoctorReport(report: DoctorReport): string {
  const out: string[] = [];
  if (report.valid) out.push(`${report.path}: valid`);
  else out.push(`${report.path}: ${report.findings.length} problem${report.findings.length === 1 ? '' : 's'}`);
  out.push(...report.summary.map((s) => `  ${s}`));
  report.findings.forEach((f, i) => {
    out.push('', `${i + 1}. ${f.code}: ${f.message}`);
    out.push(...f.explanation.map((s) => `   ${s}`));
    if (f.hexdump) out.push('', ...f.hexdump.split('\n').map((l) => `   ${l}`));
  });
  return out.join('\n');
}

function summarize(file: GGUFFile): string[] {
  const types = new Map<string, number>();
  let parameters = 0;
  for (const t of file.tensors) {
    types.set(t.type.name, (types.get(t.type.name) ?? 0) + 1);
    if (Number.isSafeInteger(t.nElements)) parameters += t.nElements;
  }
  const mixture = [...types].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${n} ${name}`).join(', ');
  const arch = file.get('general.architecture');
  const name = file.get('general.name');
  const lines = [
    `GGUF v${file.version}, ${file.fileSize.toLocaleString('en-US')} bytes, ${file.metadata.size} metadata key${file.metadata.size === 1 ? '' : 's'}` +
      (arch === undefined ? '' : `, architecture ${String(arch)}`) +
      (name === undefined ? '' : `, name ${JSON.stringify(name)}`),
    `${file.tensors.length} tensors (${mixture}), ${parameters.toLocaleString('en-US')} values, data from byte ${file.dataOffset}, alignment ${file.alignment}`,
  ];
  if (file.problems.length === 0) {
    lines.push('every tensor lies inside the file, aligned, sized for its type and shape, with no overlap');
    const dataEnd = Math.max(file.dataOffset, ...file.tensors.map((t) => t.offset + t.nBytes));
    const trailing = file.fileSize - alignUp(dataEnd, file.alignment);
    if (trailing > 0) lines.push(`${trailing} bytes follow the last tensor's data (and its alignment padding); GGUF readers ignore them`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Problems in the header or metadata: the file could not be opened, so the bytes are shown raw.

function headerFinding(path: string, e: GGUFError): DoctorFinding {
  const explanation: string[] = [];
  if (e.code === 'IO') {
    explanation.push('The file could not be read: check the path and the permissions.');
    return { code: e.code, message: e.message, explanation };
  }
  const size = fs.statSync(path).size;
  const offset = e.details.offset ?? 0;
  const n = e.details.numbers ?? {};
  let start = Math.max(0, offset - 16 - (offset % 16));
  switch (e.code) {
    case 'BAD_MAGIC': {
      const head = readRange(path, 0, 4096);
      explanation.push(`A GGUF file starts with the 4 bytes 47 47 55 46 ("GGUF"); this one starts with ${hexBytes(head.subarray(0, 4))}.`);
      explanation.push(recognize(head));
      start = 0;
      break;
    }
    case 'BIG_ENDIAN':
      explanation.push('The version field reads as 2 or 3 only with its bytes reversed: the file was written for a big-endian machine (e.g. s390x).');
      break;
    case 'UNSUPPORTED_VERSION':
      explanation.push(
        `The 4 bytes after "GGUF" hold the format version, here ${String(n.version)}; GGUF readers today read versions 2 and 3.` +
          (Number(n.version) === 1 ? ' Version 1 (2023) stored counts as 32-bit numbers; re-convert the model with a current llama.cpp.' : ' A newer version needs a newer reader.'),
      );
      break;
    case 'TRUNCATED':
      explanation.push(
        `The header, metadata and tensor directory are read front to back; at byte ${offset} the reader needed ${String(n.needed)} bytes, but the file ends ${String(n.remaining)} bytes later (file size ${String(n.fileSize)}).`,
      );
      explanation.push('The file is cut short inside its header: usually an interrupted download or copy. Compare its size with the source and fetch it again.');
      start = Math.max(0, size - (size % 16) - 48); // the last four lines
      break;
    case 'COUNT_OUT_OF_RANGE':
    case 'LENGTH_OUT_OF_RANGE':
      explanation.push(
        `The 8-byte ${e.code === 'COUNT_OUT_OF_RANGE' ? 'count' : 'length'} at byte ${offset} says ${String(n.value)}, but the ${String(n.remaining)} bytes left in the file can hold at most ${String(n.max)}.`,
      );
      // A modest count with too few bytes after it is what a cut-off file looks like; an absurd one is corruption.
      if (Number(n.value) <= 1 << 20) {
        explanation.push(`${String(n.value)} is a plausible ${e.code === 'COUNT_OUT_OF_RANGE' ? 'count' : 'length'}; what is short is the file: if it is smaller than its source, it was cut short (an interrupted download or copy).`);
      } else {
        explanation.push('Those bytes are not what a GGUF writer puts there: the file is corrupt here, or an earlier field has a different size than the reader assumed and everything after it is read shifted.');
      }
      break;
    case 'BAD_VALUE_TYPE':
      explanation.push(`Each metadata value is preceded by a 4-byte type (0 = uint8 ... 12 = float64); at byte ${offset} it is ${String(n.type)}: the metadata is corrupt or read shifted from here on.`);
      break;
    default:
      explanation.push('The header or metadata break a rule GGUF readers rely on; nothing after this point can be located reliably.');
  }
  return { code: e.code, message: e.message, explanation, offset: start, hexdump: rawHexdump(readRange(path, start, SHOWN_BYTES), start, offset, size) };
}

/** How many bytes a finding shows around its problem. */
const SHOWN_BYTES = 64;

function readRange(path: string, start: number, length: number): Uint8Array {
  const fd = fs.openSync(path, 'r');
  try {
    const out = new Uint8Array(length);
    const n = fs.readSync(fd, out, 0, length, start);
    return out.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a file that is not GGUF probably is, from its first bytes. */
function recognize(bytes: Uint8Array): string {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  const magic = text.slice(0, 4);
  const legacy: Record<string, string> = { lmgg: 'ggml', fmgg: 'ggmf', tjgg: 'ggjt', algg: 'ggla' };
  if (legacy[magic]) return `Its magic is '${legacy[magic]}', llama.cpp's format before GGUF (2023): convert it with llama.cpp's convert_llama_ggml_to_gguf.py, or better, from the original weights.`;
  if (magic === 'PK\u0003\u0004') return 'It starts like a zip archive: a PyTorch checkpoint (.pt/.bin), not GGUF; convert it with llama.cpp\'s convert_hf_to_gguf.py.';
  if (/^\s*<(!doctype|html)/i.test(text)) return 'It starts like a web page: the download saved an HTML page (an error or a "blob" page) instead of the file; download the raw file (on Hugging Face, a /resolve/ URL).';
  if (text.startsWith('version https://git-lfs')) return 'It is a Git LFS pointer, a small text file standing for the real one: fetch the content with `git lfs pull`.';
  if (bytes.length >= 9 && text[8] === '{' && Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) < bytes.length) {
    return 'It starts like a safetensors file (an 8-byte header length, then JSON): convert it with llama.cpp\'s convert_hf_to_gguf.py.';
  }
  if (bytes.length > 0 && bytes.subarray(0, Math.min(bytes.length, 64)).every((b) => b === 0)) return 'Its first bytes are all zero: a pre-allocated file whose content was never written.';
  const at = findGGUF(bytes);
  if (at > 0) return `"GGUF" appears at byte ${at}: something wrote ${at} bytes before the file's start.`;
  return 'These bytes match no format llamascope recognizes.';
}

function findGGUF(bytes: Uint8Array): number {
  for (let i = 1; i + 4 <= Math.min(bytes.length, 4096); i++) {
    if (bytes[i] === 0x47 && bytes[i + 1] === 0x47 && bytes[i + 2] === 0x55 && bytes[i + 3] === 0x46) return i;
  }
  return -1;
}

function hexBytes(bytes: Uint8Array): string {
  const ascii = Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')} ("${ascii}")`;
}

/** Raw bytes, 16 per line, the line holding `mark` flagged (the file could not be parsed, so no regions are named). */
function rawHexdump(bytes: Uint8Array, start: number, mark: number, fileSize: number): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(47);
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('').padEnd(16);
    const flag = mark >= start + at && mark < start + at + 16 ? `  <- byte ${mark}` : '';
    lines.push(`${(start + at).toString(16).padStart(8, '0')}  ${hex}  |${ascii}|${flag}`);
  }
  if (bytes.length === 0) lines.push('(no bytes: the file is empty)');
  else if (start + bytes.length === fileSize) lines.push(`(end of file at byte ${fileSize})`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Problems in the tensor directory: the file opened, so the bytes are shown with their tensors.

function directoryFinding(file: GGUFFile, e: GGUFError): DoctorFinding {
  const t = file.tensors.find((x) => x.name === e.details.tensor);
  const n = e.details.numbers ?? {};
  const finding = (explanation: string[], offset: number, length: number): DoctorFinding => {
    const start = Math.max(0, offset - (offset % 16));
    return { code: e.code, message: e.message, explanation, offset: start, hexdump: hexdump(file, start, length) };
  };
  if (!t) return { code: e.code, message: e.message, explanation: [] };
  const entry = (explanation: string[]) => finding([...explanation, `The bytes below are '${t.name}''s directory entry (name, dimensions, type, offset).`], t.infoOffset, 64);

  switch (e.code) {
    case 'TENSOR_OVERLAP': {
      const next = file.tensors.find((x) => x.offset === Number(n.nextOffset))!;
      const explanation = [
        `${capitalize(describeBlock(t.type))}.`,
        `'${t.name}' has ${describeSize(t)}, so it needs ${t.nBytes} bytes from byte ${t.offset}; the next tensor, '${next.name}', starts ${String(n.available)} bytes later.`,
        ...guessWriter(t, Number(n.available), file.alignment),
      ];
      explanation.push(`Below: the bytes around byte ${next.offset} (line ${hexOffset(next.offset)}), where '${next.name}' starts; from there on both tensors claim them.`);
      return finding(explanation, Math.max(t.offset, next.offset - 32), 64);
    }
    case 'TENSOR_OUT_OF_FILE': {
      if (n.available === undefined) {
        return entry([`'${t.name}''s data offset ${String(n.relativeOffset)} lies far beyond the end of the ${file.fileSize}-byte file: this directory entry is corrupt.`]);
      }
      const available = Number(n.available);
      const end = Math.max(...file.tensors.filter((x) => Number.isSafeInteger(x.offset)).map((x) => x.offset + x.nBytes));
      const explanation = [
        `${capitalize(describeBlock(t.type))}.`,
        `'${t.name}' has ${describeSize(t)}, so it needs ${t.nBytes} bytes from byte ${t.offset}, but the file ends ${available} bytes after that: ${t.nBytes - available} bytes (${(((t.nBytes - available) / t.nBytes) * 100).toFixed(1)} % of the tensor) are missing.`,
        `The directory places tensor data up to byte ${end}; the file has ${file.fileSize} bytes, ${end - file.fileSize} fewer.`,
      ];
      // Cut short: the tensors past the end are exactly the last ones in the file.
      const byOffset = file.tensors.filter((x) => Number.isSafeInteger(x.offset)).sort((a, b) => a.offset - b.offset);
      const past = byOffset.findIndex((x) => x.offset + x.nBytes > file.fileSize);
      if (byOffset.slice(past).every((x) => x.offset + x.nBytes > file.fileSize)) {
        const first = byOffset[past];
        explanation.push(
          `${byOffset.length - past === 1 ? 'Only this tensor runs' : `The last ${byOffset.length - past} tensors (from '${first.name}' on) run`} past the end and all before fit: the file was most likely cut short (an interrupted download or copy); fetch it again.`,
        );
      } else explanation.push(...guessWriter(t, available, file.alignment));
      explanation.push(`Below: the last bytes of the file, which ends at byte ${file.fileSize} (line ${hexOffset(file.fileSize - 1)}).`);
      return finding(explanation, Math.max(t.offset, file.fileSize - 32), 48);
    }
    case 'MISALIGNED_TENSOR':
      return finding(
        [
          `Tensor data must start at multiples of general.alignment (${file.alignment}) counted from the data section (byte ${file.dataOffset}); '${t.name}' starts ${String(n.relativeOffset)} bytes in, ${Number(n.relativeOffset) % file.alignment} bytes past a multiple.`,
          'A writer that skipped the padding between tensors produces this; readers that map the file and read in place (llama.cpp) need the alignment.',
        ],
        t.offset,
        48,
      );
    case 'ROW_NOT_WHOLE_BLOCKS':
      return entry([
        `${capitalize(describeBlock(t.type))}; a row (the first dimension, here ${t.shape[0]}) must be a whole number of blocks, and ${t.shape[0]} / ${t.type.blockSize} is not whole.`,
        'The type or the first dimension in the directory is wrong; llama-quantize keeps such tensors in a type whose blocks fit.',
      ]);
    case 'UNKNOWN_TYPE':
      return entry([`Type id ${String(n.typeId)} is not a ggml type (ids up to ${Math.max(...GGML_TYPES.map((x) => x.id))} are): the file comes from a fork with its own types, a newer ggml, or the entry is corrupt.`]);
    case 'BAD_DIMENSION':
      return entry([`Dimension ${String(n.dim)} is ${String(n.value)}; every dimension of a tensor is at least 1. The entry is corrupt, or read shifted.`]);
    case 'TOO_MANY_ELEMENTS':
      return entry(['The dimensions multiply to more values than any file could hold: the entry is corrupt, or read shifted.']);
    case 'NAME_TOO_LONG':
      return entry([`ggml keeps tensor names in 64 bytes including the terminating zero, so llama.cpp rejects this ${String(n.nameBytes)}-byte name.`]);
    case 'DUPLICATE_TENSOR':
      return entry(['Two directory entries have this name; a loader would find only one of them.']);
    default:
      return entry([]);
  }
}

/**
 * What the writer of the data probably assumed, from the space the tensor actually got:
 * blocks without their scale fields, another type, or simply fewer bytes per block.
 */
function guessWriter(t: GGUFTensorInfo, available: number, alignment: number): string[] {
  const blocks = t.nElements / t.type.blockSize;
  const fits = (bytes: number) => bytes === available || alignUp(bytes, alignment) === available;
  const scales = (BLOCK_ANATOMY[t.type.name] ?? []).filter((p) => p.scale);
  const scaleBytes = scales.reduce((a, p) => a + p.bytes, 0);
  const out: string[] = [];
  if (scaleBytes > 0 && fits(blocks * (t.type.typeSize - scaleBytes))) {
    const per = t.type.typeSize - scaleBytes;
    out.push(
      `That space holds ${blocks} blocks of ${per} bytes: ${t.type.name} blocks without their ${scales.map((p) => p.what).join(' and ')} (${scaleBytes} bytes). ` +
        `The writer likely assumed ${per}-byte blocks (no scale), so the data is not ${t.type.name} as ggml defines it: decoded as ${t.type.name}, quant bytes would be read as scales.`,
    );
    return out;
  }
  const others = GGML_TYPES.filter((x) => x !== t.type && x.typeSize > 0 && t.shape[0] % x.blockSize === 0 && fits(byteSize(x, t.nElements)));
  if (others.length > 0) {
    out.push(`That space is what this shape takes in ${orList(others.map((x) => x.name))}: the type id may be wrong, with the data really ${others.length === 1 ? others[0].name : 'one of those'}.`);
    return out;
  }
  if (Number.isInteger(available / blocks)) out.push(`That space is exactly ${available / blocks} bytes per block instead of ${t.type.typeSize}.`);
  out.push(`The data is ${t.nBytes - available} bytes shorter than the shape and type need.`);
  return out;
}

/** The line label the hexdump gives the line holding this byte. */
function hexOffset(offset: number): string {
  return (offset - (offset % 16)).toString(16).padStart(8, '0');
}

/** "a Q4_0", "an F16", "an IQ4_NL": by how the first letter is spoken. */
function article(name: string): string {
  return /^[AEFHILMNORSX]/.test(name) ? 'an' : 'a';
}

function orList(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
