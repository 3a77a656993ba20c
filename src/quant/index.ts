// Quantization formats: the type table, the codecs, and whole-array helpers.
import { byteSize, typeByName, codecTypes, type GGMLTypeInfo } from './types';

export { GGML_TYPES, typeById, typeByName, codecTypes, byteSize, type GGMLTypeInfo } from './types';
export type { BlockCodec, BlockFieldSpec, BlockFieldValues } from './codec';
export { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from './half';

function codecOf(type: GGMLTypeInfo | string) {
  const t = typeof type === 'string' ? typeByName(type) : type;
  if (!t) throw new Error(`unknown ggml type '${String(type)}'; known types: ${codecTypes().map((x) => x.name).join(', ')}`);
  if (!t.codec) throw new Error(`llamascope cannot encode or decode ${t.name} yet; it can: ${codecTypes().map((x) => x.name).join(', ')}`);
  return { type: t, codec: t.codec };
}

/** Decode whole blocks of `type` to float32. */
export function dequantize(type: GGMLTypeInfo | string, bytes: Uint8Array): Float32Array {
  const { type: t, codec } = codecOf(type);
  if (bytes.length % t.typeSize !== 0) throw new RangeError(`${bytes.length} bytes are not whole ${t.typeSize}-byte ${t.name} blocks`);
  const out = new Float32Array((bytes.length / t.typeSize) * t.blockSize);
  codec.dequantize(bytes, out);
  return out;
}

/** Encode float32 values (a whole number of blocks) exactly as ggml's reference quantizer does. */
export function quantize(type: GGMLTypeInfo | string, values: Float32Array): Uint8Array {
  const { type: t, codec } = codecOf(type);
  const out = new Uint8Array(byteSize(t, values.length));
  codec.quantize(values, out);
  return out;
}
