// Batched f32 matmul with strided operands and broadcast batch dimensions (see matmul.wgsl).
// `ggml` (the CPU's bit-level emulation of llama.cpp's f16 attention products) does not apply:
// the GPU computes the same products to float32 rounding.
import type { OpKernel } from '../../../tensor/backend';
import { View } from '../../../tensor/view';
import type { ElementBinding, KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { wgsl } from '../shaders';

const MAX_BATCH_DIMS = 4;

export function runMatmul(ctx: KernelContext, k: OpKernel, out: GpuBuffer): void {
  const batchShape = k.shape.slice(0, -2);
  if (batchShape.length > MAX_BATCH_DIMS) {
    throw new Error(`matmul on WebGPU takes at most ${MAX_BATCH_DIMS} batch dimensions; reshape [${k.shape}] to fewer first`);
  }
  // i32 operands are converted to dense f32 first; f32 ones are read through their strides.
  const temps: GpuBuffer[] = [];
  const operand = (i: number): { view: View; binding: ElementBinding } => {
    const { buffer, view } = k.inputs[i];
    if (buffer.dtype === 'f32') return { view, binding: ctx.elements(buffer as GpuBuffer, view) };
    const dense = ctx.dense(buffer as GpuBuffer, view, 'f32');
    temps.push(dense.temp!);
    return { view: View.contiguous(view.shape), binding: dense };
  };
  const [{ view: x, binding: a }, { view: y, binding: b }] = [operand(0), operand(1)];
  const m = x.shape[x.rank - 2], inner = x.shape[x.rank - 1], n = y.shape[y.rank - 1];
  const batch = batchShape.reduce((p, d) => p * d, 1);
  const pad = (v: number[], fill: number) => [...new Array(MAX_BATCH_DIMS - v.length).fill(fill), ...v];
  const batchStrides = (v: View) => pad(v.expand([...batchShape, v.shape[v.rank - 2], v.shape[v.rank - 1]]).strides.slice(0, -2) as number[], 0);
  const params = new Uint32Array(24);
  params.set([m, n, inner, batch, ...pad(batchShape as number[], 1), ...batchStrides(x), ...batchStrides(y)]);
  params.set([a.offset, x.strides[x.rank - 2], x.strides[x.rank - 1], b.offset, y.strides[y.rank - 2], y.strides[y.rank - 1]], 16);
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get('matmul', () => wgsl('kernels/matmul.wgsl', { WG: wg }));
  const tileM = (wg / 16) * 4;
  const groups = batch * Math.ceil(m / tileM) * Math.ceil(n / 64);
  if (m * n > 0) ctx.dispatch(pipeline, params, [ctx.whole(out), a.binding, b.binding], groups);
  for (const t of temps) ctx.free(t);
}
