import ndarray from 'ndarray';
import type { GGUFFile, GGUFTensorInfo } from '../gguf';

/**
 * Rows [start, end) of a tensor, dequantized, as an ndarray of shape [rows, ne0]
 * (row-major, the GGUF shape reversed, as PyTorch would show a weight).
 */
export function tensorNdarray(file: GGUFFile, tensor: string | GGUFTensorInfo, start = 0, end?: number): ndarray.NdArray<Float32Array> {
  const t = typeof tensor === 'string' ? file.tensor(tensor) : tensor;
  const last = end ?? file.rowCount(t);
  return ndarray(file.readRows(t, start, last), [last - start, t.shape[0]]);
}
