// writeRows on the device (see write-rows.wgsl): the source rows and the indices read as dense
// elements, one dispatch per window of the target.
import type { View } from '../../../tensor/view';
import type { KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { wgsl } from '../shaders';
import { rowWindows } from './weight-windows';

export function writeRows(ctx: KernelContext, target: GpuBuffer, source: GpuBuffer, view: View, indices: GpuBuffer, indicesView: View): void {
  const rows = view.shape[0];
  if (rows === 0) return;
  const rowWords = view.size / rows;
  const from = ctx.dense(source, view);
  const at = ctx.dense(indices, indicesView);
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get('writeRows', () => wgsl('kernels/write-rows.wgsl', { WG: wg }));
  ctx.changed(target);
  for (const w of rowWindows(target, 0, target.length / rowWords, 4 * rowWords, ctx.caps)) {
    const params = Uint32Array.of(view.size, rowWords, from.offset, at.offset, w.firstRow, w.rows, w.shift / 4);
    ctx.dispatch(pipeline, params, [w.binding, from.binding, at.binding], Math.ceil(view.size / wg));
  }
  if (from.temp) ctx.free(from.temp);
  if (at.temp) ctx.free(at.temp);
}
