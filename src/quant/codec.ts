// The contract every quantization family implements. A codec works on whole blocks:
// `blockSize` values are stored in `typeSize` bytes (ggml's blck_size / type_size).

/** One named field of a block as shown in a block table: a scalar or a fixed-length list. */
export interface BlockFieldSpec {
  readonly name: string;
  /** 'float' fields are decoded scales (f16 or f32 in the file); 'int' fields are raw quant codes. */
  readonly kind: 'float' | 'int';
  /** 1 for a scalar; otherwise the list length (e.g. 32 quants, 16 sub-block scales). */
  readonly length: number;
}

export type BlockFieldValues = Record<string, number | number[]>;

export interface BlockCodec {
  /** Decode whole blocks: `src.length` is a multiple of typeSize; dst gets blockSize values per block. */
  dequantize(src: Uint8Array, dst: Float32Array): void;
  /**
   * Encode whole blocks exactly as ggml's reference (non-imatrix) `quantize_row_*_ref` does,
   * bit for bit: `src.length` is a multiple of blockSize; dst gets typeSize bytes per block.
   */
  quantize(src: Float32Array, dst: Uint8Array): void;
  /** The fields of one block, in the order a reader of ggml-common.h expects them. */
  readonly fields: readonly BlockFieldSpec[];
  /** Decode the fields of the block that starts at `offset` in `src`. */
  blockFields(src: Uint8Array, offset: number): BlockFieldValues;
}
