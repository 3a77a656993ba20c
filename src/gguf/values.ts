// GGUF metadata values: the 13 value types of the GGUF spec and how we hold them in JavaScript.
// 64-bit integers are bigint (lossless); numeric arrays are typed arrays (a 150k-entry vocabulary
// score list stays one Float32Array); string arrays are string[]; arrays of arrays nest.

export enum GGUFValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

export interface GGUFArray {
  readonly itemType: GGUFValueType;
  readonly items: NumericArray | boolean[] | string[] | GGUFArray[];
}

export type GGUFScalar = number | bigint | boolean | string;

export interface GGUFValue {
  readonly type: GGUFValueType;
  readonly value: GGUFScalar | GGUFArray;
}

/** Bytes of one scalar of this type in the file (strings and arrays: their smallest encoding). */
export function minEncodedSize(type: GGUFValueType): number {
  switch (type) {
    case GGUFValueType.UINT8:
    case GGUFValueType.INT8:
    case GGUFValueType.BOOL:
      return 1;
    case GGUFValueType.UINT16:
    case GGUFValueType.INT16:
      return 2;
    case GGUFValueType.UINT32:
    case GGUFValueType.INT32:
    case GGUFValueType.FLOAT32:
      return 4;
    case GGUFValueType.UINT64:
    case GGUFValueType.INT64:
    case GGUFValueType.FLOAT64:
    case GGUFValueType.STRING: // u64 length
      return 8;
    case GGUFValueType.ARRAY: // u32 item type + u64 count
      return 12;
  }
}

export function isValueType(t: number): t is GGUFValueType {
  return Number.isInteger(t) && t >= 0 && t <= 12;
}

export function valueTypeName(t: GGUFValueType): string {
  return GGUFValueType[t]?.toLowerCase() ?? `type ${t}`;
}

/** A metadata value as plain JavaScript: scalars as they are, arrays as their items (recursively). */
export function plainValue(v: GGUFValue | GGUFArray | GGUFScalar): unknown {
  if (typeof v !== 'object') return v;
  if ('items' in v) {
    return v.itemType === GGUFValueType.ARRAY ? (v.items as GGUFArray[]).map(plainValue) : v.items;
  }
  return plainValue(v.value);
}
