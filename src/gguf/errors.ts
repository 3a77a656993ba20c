// One error class for everything that can be wrong with a GGUF file. The `code` says what kind of
// problem it is; the message names the key or tensor, the offset and the numbers involved, and
// what the user can do about it.

export type GGUFErrorCode =
  | 'IO' // the file could not be read
  | 'BAD_MAGIC' // not a GGUF file
  | 'BIG_ENDIAN' // a GGUF written for big-endian machines
  | 'UNSUPPORTED_VERSION' // v1, or newer than we know
  | 'TRUNCATED' // a field runs past the end of the file
  | 'COUNT_OUT_OF_RANGE' // a tensor/key/array count larger than the file could hold
  | 'LENGTH_OUT_OF_RANGE' // a string longer than the rest of the file
  | 'BAD_VALUE_TYPE' // unknown metadata value type
  | 'NESTING_TOO_DEEP' // arrays of arrays nested beyond reason
  | 'EMPTY_KEY'
  | 'DUPLICATE_KEY'
  | 'BAD_ALIGNMENT' // general.alignment missing a power of two or of the wrong type
  | 'NAME_TOO_LONG' // tensor name of 64 bytes or more (ggml's GGML_MAX_NAME)
  | 'DUPLICATE_TENSOR'
  | 'TOO_MANY_DIMS' // more than 4 dimensions
  | 'BAD_DIMENSION' // a dimension of zero or less
  | 'TOO_MANY_ELEMENTS' // element count not representable
  | 'UNKNOWN_TYPE' // tensor type id ggml does not define
  | 'ROW_NOT_WHOLE_BLOCKS' // ne0 not a multiple of the type's block size
  | 'MISALIGNED_TENSOR' // data offset not a multiple of the alignment
  | 'TENSOR_OUT_OF_FILE' // tensor bytes run past the end of the file
  | 'TENSOR_OVERLAP'; // tensor bytes run into the next tensor's

export interface GGUFErrorDetails {
  /** Byte offset in the file where the problem is. */
  offset?: number;
  key?: string;
  tensor?: string;
  /** Any numbers involved, by name (expected/actual sizes, counts, ...). */
  numbers?: Record<string, number | bigint>;
}

export class GGUFError extends Error {
  override name = 'GGUFError';
  constructor(
    readonly code: GGUFErrorCode,
    message: string,
    readonly details: GGUFErrorDetails = {},
  ) {
    super(message);
  }
}
