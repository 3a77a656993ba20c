// Rows of a table (f32 or any block type) by index: the embedding lookup.
import type { GGMLTypeInfo } from '../../../quant/types';

export function getRows(table: Float32Array | Uint8Array, type: GGMLTypeInfo | null, rows: number, width: number, ids: Int32Array, out: Float32Array): void {
  const rowBytes = type ? (width / type.blockSize) * type.typeSize : 0;
  ids.forEach((id, k) => {
    if (!(id >= 0 && id < rows)) throw new RangeError(`getRows: index ${id} (position ${k}) is outside the table's ${rows} rows`);
    const dst = out.subarray(k * width, (k + 1) * width);
    if (type) type.codec!.dequantize((table as Uint8Array).subarray(id * rowBytes, (id + 1) * rowBytes), dst);
    else dst.set((table as Float32Array).subarray(id * width, (id + 1) * width));
  });
}
