// Whole-file quantization, as `llama-quantize --pure` does it: every 2-D (or higher) weight goes to
// one type, 1-D tensors stay F32, metadata is copied with general.quantization_version and
// general.file_type set last, and tensors are ordered by block, then name. With ggml's reference
// quantizers reproduced bit for bit (src/quant), the output equals llama-quantize's file byte for byte.
// Tensors are read, converted and written one at a time, so memory stays at one tensor.

import { openGGUF } from './reader';
import { meta, writeGGUF } from './writer';
import type { GGUFTensorInfo } from './file';
import { KEY_FILE_TYPE, KEY_QUANTIZATION_VERSION } from './keys';
import { codecTypes, typeByName, byteSize, type GGMLTypeInfo } from '../quant/types';

/** llama.cpp's `llama_ftype` for a file whose weights are all of one type (include/llama.h). */
export const LLAMA_FTYPE: Record<string, number> = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  Q5_1: 9,
  Q2_K: 10,
  Q3_K: 12, // Q3_K_M: llama-quantize names the pure Q3_K file type so
  Q4_K: 15, // Q4_K_M
  Q5_K: 17, // Q5_K_M
  Q6_K: 18,
  IQ4_NL: 25,
  IQ4_XS: 30,
  BF16: 32,
};

/** ggml's quantization scheme version, written by llama-quantize (GGML_QNT_VERSION). */
const QUANTIZATION_VERSION = 2;

/** Where a row does not split into 256-value super-blocks, llama.cpp falls back to these types. */
const FALLBACK: Record<string, string> = { Q2_K: 'IQ4_NL', Q3_K: 'IQ4_NL', IQ4_XS: 'IQ4_NL', Q4_K: 'Q5_0', Q5_K: 'Q5_1', Q6_K: 'Q8_0' };

export interface QuantizedTensor {
  name: string;
  from: string;
  to: string;
  bytesIn: number;
  bytesOut: number;
}

export interface QuantizeOptions {
  /** Called after each tensor with how many are done out of how many. */
  onProgress?: (done: number, total: number, tensor: QuantizedTensor) => void;
}

/** The types `quantizeFile` can write. */
export function quantizeTargets(): string[] {
  return codecTypes()
    .filter((t) => t.name in LLAMA_FTYPE)
    .map((t) => t.name);
}

export function quantizeFile(input: string, output: string, typeName: string, options: QuantizeOptions = {}): QuantizedTensor[] {
  const target = typeByName(typeName);
  if (!target || !target.codec || !(target.name in LLAMA_FTYPE)) {
    throw new Error(`cannot quantize to '${typeName}'; choose one of ${quantizeTargets().join(', ')}`);
  }
  const file = openGGUF(input);
  try {
    const tensors = [...file.tensors].sort(llamaQuantizeOrder);
    const plan = tensors.map((t) => ({ tensor: t, to: targetFor(t, target) }));
    const metadata = [...file.metadata].filter(([k]) => k !== KEY_FILE_TYPE && k !== KEY_QUANTIZATION_VERSION);
    metadata.push([KEY_QUANTIZATION_VERSION, meta.u32(QUANTIZATION_VERSION)], [KEY_FILE_TYPE, meta.u32(LLAMA_FTYPE[target.name])]);
    const report: QuantizedTensor[] = [];
    writeGGUF(output, {
      metadata,
      tensors: plan.map(({ tensor, to }) => ({
        name: tensor.name,
        type: to,
        shape: tensor.shape,
        data: () => {
          const data = to.id === tensor.type.id ? file.readTensorBytes(tensor) : encode(file.readRows(tensor), to);
          const entry = { name: tensor.name, from: tensor.type.name, to: to.name, bytesIn: tensor.nBytes, bytesOut: data.length };
          report.push(entry);
          options.onProgress?.(report.length, plan.length, entry);
          return data;
        },
      })),
    });
    return report;
  } finally {
    file.close();
  }
}

function encode(values: Float32Array, to: GGMLTypeInfo): Uint8Array {
  const out = new Uint8Array(byteSize(to, values.length));
  to.codec!.quantize(values, out);
  return out;
}

function targetFor(t: GGUFTensorInfo, target: GGMLTypeInfo): GGMLTypeInfo {
  const isWeight = t.name.endsWith('weight') && t.shape.length >= 2;
  if (!isWeight) return typeByName('F32')!;
  if (t.shape[0] % target.blockSize === 0) return target;
  const fallback = typeByName(FALLBACK[target.name] ?? '');
  if (fallback?.codec && t.shape[0] % fallback.blockSize === 0) return fallback;
  throw new Error(
    `'${t.name}' has rows of ${t.shape[0]} values, which do not split into ${target.blockSize}-value ${target.name} blocks` +
      (fallback ? `, and its fallback ${fallback.name} cannot be written` : '') +
      '; choose a type with 32-value blocks (Q8_0, Q4_0, ...)',
  );
}

/** llama-quantize writes tensors sorted by block number (non-block tensors first), then by name. */
function llamaQuantizeOrder(a: GGUFTensorInfo, b: GGUFTensorInfo): number {
  const block = (t: GGUFTensorInfo) => {
    const m = /^blk\.(\d+)\./.exec(t.name);
    return m ? Number(m[1]) : -1;
  };
  return block(a) - block(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
