// Every ggml tensor type: its id in GGUF files, how many values a block holds, how many bytes a
// block takes, and the codec that reads and writes it (when we have one). Sizes follow the
// block structs and static_asserts of ggml's ggml-common.h; ids follow `enum ggml_type` in ggml.h.
// A new type is one row here plus its codec.

import type { BlockCodec } from './codec';
import { BF16, F16, F32 } from './floats';
import { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 } from './legacy';
import { IQ4_NL, IQ4_XS } from './iquants';
import { Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K } from './kquants';

export interface GGMLTypeInfo {
  readonly id: number;
  /** Upper-case name as llama.cpp prints it (Q4_K, F16, IQ4_XS). */
  readonly name: string;
  /** Values per block (1 for plain scalars). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** Our reader/writer of the format; absent where we can size but not decode it. */
  readonly codec?: BlockCodec;
}

const QK_K = 256;

function row(id: number, name: string, blockSize: number, typeSize: number, codec?: BlockCodec): GGMLTypeInfo {
  return { id, name, blockSize, typeSize, codec };
}

export const GGML_TYPES: readonly GGMLTypeInfo[] = [
  row(0, 'F32', 1, 4, F32),
  row(1, 'F16', 1, 2, F16),
  row(2, 'Q4_0', 32, 2 + 16, Q4_0), //                         4.5 bits per weight
  row(3, 'Q4_1', 32, 2 + 2 + 16, Q4_1), //                     5.0
  row(6, 'Q5_0', 32, 2 + 4 + 16, Q5_0), //                     5.5
  row(7, 'Q5_1', 32, 2 + 2 + 4 + 16, Q5_1), //                 6.0
  row(8, 'Q8_0', 32, 2 + 32, Q8_0), //                         8.5
  row(9, 'Q8_1', 32, 2 + 2 + 32, Q8_1), //                     9.0 (activations only)
  row(10, 'Q2_K', QK_K, 2 + 2 + 16 + 64, Q2_K), //             2.625
  row(11, 'Q3_K', QK_K, 2 + 64 + 32 + 12, Q3_K), //            3.4375
  row(12, 'Q4_K', QK_K, 2 + 2 + 12 + 128, Q4_K), //            4.5
  row(13, 'Q5_K', QK_K, 2 + 2 + 12 + 128 + 32, Q5_K), //       5.5
  row(14, 'Q6_K', QK_K, 2 + 16 + 192, Q6_K), //                6.5625
  row(15, 'Q8_K', QK_K, 4 + 256 + 32, Q8_K), //                9.125 (activations only)
  row(16, 'IQ2_XXS', QK_K, 2 + 64),
  row(17, 'IQ2_XS', QK_K, 2 + 64 + 8),
  row(18, 'IQ3_XXS', QK_K, 2 + 96),
  row(19, 'IQ1_S', QK_K, 2 + 32 + 16),
  row(20, 'IQ4_NL', 32, 2 + 16, IQ4_NL), //                    4.5
  row(21, 'IQ3_S', QK_K, 2 + 13 * 8 + 4),
  row(22, 'IQ2_S', QK_K, 2 + 64 + 16),
  row(23, 'IQ4_XS', QK_K, 2 + 2 + 4 + 128, IQ4_XS), //         4.25
  row(24, 'I8', 1, 1),
  row(25, 'I16', 1, 2),
  row(26, 'I32', 1, 4),
  row(27, 'I64', 1, 8),
  row(28, 'F64', 1, 8),
  row(29, 'IQ1_M', QK_K, 32 + 16 + 8),
  row(30, 'BF16', 1, 2, BF16),
  row(34, 'TQ1_0', QK_K, 2 + 4 + 48),
  row(35, 'TQ2_0', QK_K, 2 + 64),
  row(39, 'MXFP4', 32, 1 + 16),
  row(40, 'NVFP4', 64, 4 + 32),
  row(41, 'Q1_0', 128, 2 + 16),
  row(42, 'Q2_0', 64, 2 + 16),
];

const byId = new Map(GGML_TYPES.map((t) => [t.id, t]));
const byName = new Map(GGML_TYPES.map((t) => [t.name, t]));

/** The type with this GGUF id, or undefined for an id ggml does not define. */
export function typeById(id: number): GGMLTypeInfo | undefined {
  return byId.get(id);
}

/** Look a type up by name, case-insensitively ('q4_k', 'Q4_K', 'f16'). */
export function typeByName(name: string): GGMLTypeInfo | undefined {
  return byName.get(name.toUpperCase());
}

/** Types we can both decode and encode. */
export function codecTypes(): GGMLTypeInfo[] {
  return GGML_TYPES.filter((t) => t.codec !== undefined);
}

/** Bytes that `nElements` values of this type occupy; throws if not a whole number of blocks. */
export function byteSize(type: GGMLTypeInfo, nElements: number): number {
  if (nElements % type.blockSize !== 0) {
    throw new RangeError(
      `${nElements} values of ${type.name} are not a whole number of ${type.blockSize}-value blocks`,
    );
  }
  return (nElements / type.blockSize) * type.typeSize;
}
