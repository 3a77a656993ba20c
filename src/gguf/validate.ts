// Checks on the tensor directory, each producing a GGUFError that names the tensor and the numbers.
// They mirror what llama.cpp's gguf loader demands, plus overlap detection, so that a file that
// passes here loads there, and a file that does not is explained precisely.

import { GGUFError } from './errors';
import type { GGUFTensorInfo } from './file';

const MAX_NAME_BYTES = 63; // ggml's GGML_MAX_NAME is 64 including the terminating NUL
const utf8 = new TextEncoder();

export interface Layout {
  alignment: number;
  fileSize: number;
}

/** Every problem in the directory, in file order; an empty list means the file is sound. */
export function checkTensors(tensors: GGUFTensorInfo[], layout: Layout): GGUFError[] {
  const problems: GGUFError[] = [];
  const seen = new Map<string, number>();
  tensors.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) {
      problems.push(
        err('DUPLICATE_TENSOR', t, `tensor name '${t.name}' is used by tensors #${first} and #${i}`, {
          first,
          second: i,
        }),
      );
    } else seen.set(t.name, i);
    problems.push(...checkShapeAndType(t));
  });
  problems.push(...checkPlacement(tensors, layout));
  return problems;
}

function checkShapeAndType(t: GGUFTensorInfo): GGUFError[] {
  const out: GGUFError[] = [];
  const nameBytes = utf8.encode(t.name).length;
  if (nameBytes > MAX_NAME_BYTES) {
    out.push(err('NAME_TOO_LONG', t, `tensor name '${t.name}' is ${nameBytes} bytes; ggml allows at most ${MAX_NAME_BYTES}`, { nameBytes }));
  }
  t.ne.forEach((d, i) => {
    if (d <= 0n) out.push(err('BAD_DIMENSION', t, `tensor '${t.name}' has dimension ${i} = ${d}; dimensions must be positive`, { dim: i, value: d }));
  });
  if (out.some((e) => e.code === 'BAD_DIMENSION')) return out;
  if (!Number.isSafeInteger(t.nElements)) {
    out.push(
      err('TOO_MANY_ELEMENTS', t, `tensor '${t.name}' with shape [${t.ne.join(', ')}] has more elements than can be addressed (2^53)`, {}),
    );
    return out;
  }
  if (t.type.typeSize === 0) {
    out.push(err('UNKNOWN_TYPE', t, `tensor '${t.name}' has type id ${t.typeId}, which ggml does not define`, { typeId: t.typeId }));
    return out;
  }
  const ne0 = t.shape[0] ?? 1;
  if (ne0 % t.type.blockSize !== 0) {
    out.push(
      err(
        'ROW_NOT_WHOLE_BLOCKS',
        t,
        `tensor '${t.name}' of type ${t.type.name} has rows of ${ne0} values, not a multiple of its ${t.type.blockSize}-value blocks`,
        { ne0, blockSize: t.type.blockSize },
      ),
    );
  }
  return out;
}

/** Aligned, inside the file, and not running into the next tensor (in offset order). */
function checkPlacement(tensors: GGUFTensorInfo[], { alignment, fileSize }: Layout): GGUFError[] {
  const out: GGUFError[] = [];
  const placed = tensors.filter((t) => Number.isSafeInteger(t.offset) && Number.isSafeInteger(t.nBytes));
  for (const t of tensors) {
    if (!Number.isSafeInteger(t.offset)) {
      out.push(
        err('TENSOR_OUT_OF_FILE', t, `tensor '${t.name}' has data offset ${t.rawRelativeOffset}, far beyond the end of the file (${fileSize} bytes)`, {
          relativeOffset: t.rawRelativeOffset,
          fileSize,
        }),
      );
    } else if (t.relativeOffset % alignment !== 0) {
      out.push(
        err(
          'MISALIGNED_TENSOR',
          t,
          `tensor '${t.name}' starts at data offset ${t.relativeOffset}, not a multiple of the alignment ${alignment}` +
            ` (${t.relativeOffset % alignment} bytes past the previous multiple)`,
          { relativeOffset: t.relativeOffset, alignment },
        ),
      );
    }
  }
  const byOffset = [...placed].sort((a, b) => a.offset - b.offset);
  byOffset.forEach((t, i) => {
    const next = byOffset[i + 1];
    const end = t.offset + t.nBytes;
    const sizes = describeSize(t);
    if (end > fileSize) {
      out.push(
        err(
          'TENSOR_OUT_OF_FILE',
          t,
          `tensor '${t.name}' needs ${sizes} = ${t.nBytes} bytes from offset ${t.offset}, but the file ends ${Math.max(fileSize - t.offset, 0)}` +
            ` bytes later (file size ${fileSize}): the file is truncated or the tensor's type or shape is wrong`,
          { offset: t.offset, needed: t.nBytes, available: Math.max(fileSize - t.offset, 0), fileSize },
        ),
      );
    } else if (next && end > next.offset) {
      out.push(
        err(
          'TENSOR_OVERLAP',
          t,
          `tensor '${t.name}' needs ${sizes} = ${t.nBytes} bytes from offset ${t.offset}, but only ${next.offset - t.offset} bytes` +
            ` are available before tensor '${next.name}' at offset ${next.offset}: its type or shape does not match its data`,
          { offset: t.offset, needed: t.nBytes, available: next.offset - t.offset, nextOffset: next.offset },
        ),
      );
    }
  });
  return out;
}

/** "shape [256, 2048] of Q4_0 = 16384 blocks x 18 bytes" */
export function describeSize(t: GGUFTensorInfo): string {
  const blocks = t.nElements / t.type.blockSize;
  const per = t.type.blockSize === 1 ? 'values' : `${t.type.blockSize}-value blocks`;
  return `shape [${t.shape.join(', ')}] of ${t.type.name}: ${blocks} ${per} x ${t.type.typeSize} bytes`;
}

function err(code: GGUFError['code'], t: GGUFTensorInfo, message: string, numbers: Record<string, number | bigint>): GGUFError {
  return new GGUFError(code, message, {
    tensor: t.name,
    offset: Number.isSafeInteger(t.offset) ? t.offset : t.infoOffset,
    numbers,
  });
}
