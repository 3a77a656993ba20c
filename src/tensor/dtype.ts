// Element types of tensors. Activations are f32 (or i32 for token ids and argmax); weights may stay
// in any GGML type of the quant table (Q4_K, F16, ...) and are then only read by the ops that
// understand blocks: linear (quantized matmul), getRows (embedding lookup) and cast to f32.
import { typeByName, type GGMLTypeInfo } from '../quant/types';

export type ComputeDType = 'f32' | 'i32';
/** A GGML type name from the quant table, e.g. 'Q4_K', 'Q8_0', 'F16'. */
export type BlockDType = string;
export type DType = ComputeDType | BlockDType;

export function isComputeDType(d: DType): d is ComputeDType {
  return d === 'f32' || d === 'i32';
}

/** The quant-table row of a block dtype; throws for f32/i32 and unknown names. */
export function blockType(d: DType): GGMLTypeInfo {
  const t = isComputeDType(d) ? undefined : typeByName(d);
  if (!t || !t.codec) throw new TypeError(`${d} is not a block type llamascope can read`);
  return t;
}

/** Bytes of `n` elements of this dtype (block types: n must be whole blocks). */
export function dtypeBytes(d: DType, n: number): number {
  if (isComputeDType(d)) return n * 4;
  const t = blockType(d);
  return (n / t.blockSize) * t.typeSize;
}
