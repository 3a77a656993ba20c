// Which WGSL decoder reads each block type inside the kernels (linear, getRows), and the template
// values every decoder needs. Each decoder file defines row_quad(row, q) (values 4q..4q+3 of a row
// starting at byte `row`) and row_value(row, i); the integer-code types also define the code and
// scale accessors the Q8-activation matmul uses (see integer-codes.wgsl).
import { blockType } from '../../../tensor/dtype';
import type { GGMLTypeInfo } from '../../../quant/types';
import type { Capabilities } from '../capabilities';

const FILES: Record<string, string> = {
  F32: 'f32',
  F16: 'f16',
  BF16: 'bf16',
  Q4_0: 'q4_0',
  Q4_1: 'q4_1',
  Q5_0: 'q5_0',
  Q5_1: 'q5_1',
  Q8_0: 'q8_0',
  Q8_1: 'q8_1',
  Q2_K: 'q2_k',
  Q3_K: 'q3_k',
  Q4_K: 'q4_k',
  Q5_K: 'q5_k',
  Q6_K: 'q6_k',
  Q8_K: 'q8_k',
  IQ4_NL: 'iq4_nl',
  IQ4_XS: 'iq4_xs',
};

const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16']);

export interface Decoder {
  type: GGMLTypeInfo;
  /** WGSL file under blocks/. */
  file: string;
  /** Values are integer codes under per-group scales (all but F32/F16/BF16). */
  integerCodes: boolean;
  /** Bytes of one row of `width` values. */
  rowBytes(width: number): number;
}

/**
 * The decoder of a weight dtype ('f32' tensors are read as F32 blocks). `quadAligned`: every quad
 * of every row starts 8-byte aligned, which lets F16 use native f16 loads when the device has them.
 */
export function decoderFor(dtype: string, caps: Capabilities, quadAligned: boolean): Decoder {
  const type = blockType(dtype === 'f32' ? 'F32' : dtype);
  const name = FILES[type.name];
  if (!name) throw new Error(`the WebGPU backend cannot decode ${type.name} blocks yet (it can: ${Object.keys(FILES).join(', ')})`);
  const file = type.name === 'F16' && caps.f16 && quadAligned ? 'f16-native' : name;
  return {
    type,
    file: `blocks/${file}.wgsl`,
    integerCodes: !FLOAT_TYPES.has(type.name),
    rowBytes: (width) => (width / type.blockSize) * type.typeSize,
  };
}

/** Template values of a decoder bound at `binding`; `enable f16;` goes in the prelude for the native F16 decoder. */
export function decoderTemplate(decoder: Decoder, caps: Capabilities, binding: number): { prelude: string; values: Record<string, string | number> } {
  return {
    prelude: decoder.file.endsWith('f16-native.wgsl') ? 'enable f16;\n' : '',
    values: {
      BLOCKS_BINDING: binding,
      UNPACK_CODES: caps.packedDot
        ? 'return unpack4xI8(c);'
        : 'return bitcast<vec4<i32>>(vec4<u32>(c << 24u, c << 16u, c << 8u, c)) >> vec4<u32>(24u);',
    },
  };
}
