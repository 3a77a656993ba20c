// Embedding lookup: rows of a table of any dtype by i32 index, as f32 (see get-rows.wgsl).
import type { OpKernel } from '../../../tensor/backend';
import type { KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { decoderFor, decoderTemplate } from '../blocks/decoders';
import { wgsl } from '../shaders';
import { copyToDense } from './elementwise';
import { rowWindows } from './weight-windows';

export function runGetRows(ctx: KernelContext, k: OpKernel, out: GpuBuffer): void {
  const [tableInput, idsInput] = k.inputs;
  const [rows, width] = tableInput.view.shape;
  let table = tableInput.buffer as GpuBuffer;
  let baseByte = 0;
  let temp: GpuBuffer | null = null;
  if (table.dtype === 'f32') {
    if (tableInput.view.isDense()) baseByte = tableInput.view.offset * 4;
    else table = temp = copyToDense(ctx, table, tableInput.view);
  }
  const decoder = decoderFor(table.dtype, ctx.caps, width % 4 === 0 && baseByte % 8 === 0);
  const rowBytes = decoder.rowBytes(width);
  const ids = ctx.dense(idsInput.buffer as GpuBuffer, idsInput.view);
  const count = idsInput.view.size;
  const quads = Math.ceil(width / 4);
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get(`getRows|${decoder.file}|${ctx.caps.packedDot}`, () => {
    const d = decoderTemplate(decoder, ctx.caps, 3);
    return wgsl('kernels/get-rows.wgsl', { WG: wg, DECODER: decoder.file, ...d.values }, d.prelude);
  });
  // An output larger than one binding is written in chunks of whole rows, each starting aligned.
  const whole = out.bytes <= ctx.caps.maxBindingBytes;
  const rowsPerChunk = whole ? count : alignedRowsPerBinding(width * 4, ctx.caps.storageAlign, ctx.caps.maxBindingBytes);
  const windows = rowWindows(table, baseByte, rows, rowBytes, ctx.caps);
  for (let first = 0; first < count; first += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, count - first);
    const outBinding: GPUBufferBinding = whole ? { buffer: out.gpu } : { buffer: out.gpu, offset: first * width * 4, size: n * width * 4 };
    for (const [i, w] of windows.entries()) {
      const params = Uint32Array.of(n, width, quads, rows, ids.offset + first, w.firstRow, w.rows, rowBytes, w.shift, i === 0 ? 1 : 0);
      ctx.dispatch(pipeline, params, [outBinding, ids.binding, w.binding], Math.ceil((n * quads) / wg));
    }
  }
  if (ids.temp) ctx.free(ids.temp);
  if (temp) ctx.free(temp);
}

/** The most rows of `rowBytes` one binding holds such that every chunk of them starts `align`ed. */
function alignedRowsPerBinding(rowBytes: number, align: number, maxBytes: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const step = align / gcd(rowBytes, align);
  return Math.max(step, Math.floor(maxBytes / rowBytes / step) * step);
}
