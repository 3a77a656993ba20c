// Rotary position embedding (see rope.wgsl).
import type { OpKernel } from '../../../tensor/backend';
import type { RopeArgs } from '../../../tensor/ops';
import type { KernelContext } from '../context';
import type { GpuBuffer } from '../gpu-buffer';
import { wgsl } from '../shaders';
import { f32Bits } from './bits';

export function runRope(ctx: KernelContext, k: OpKernel, args: RopeArgs, out: GpuBuffer): void {
  const [input, positions] = k.inputs;
  const shape = input.view.shape;
  const rank = shape.length;
  const x = ctx.dense(input.buffer as GpuBuffer, input.view, 'f32');
  const pos = ctx.dense(positions.buffer as GpuBuffer, positions.view);
  // As the CPU reference: freqBase^(-2/dims) rounded to float32 once, on the host.
  const thetaScale = Math.fround(Math.pow(args.freqBase, Math.fround(-2 / args.dims)));
  const wg = ctx.caps.workgroupSize;
  const pipeline = ctx.pipelines.get('rope', () => wgsl('kernels/rope.wgsl', { WG: wg }));
  const count = input.view.size;
  const params = Uint32Array.of(count, shape[rank - 3], shape[rank - 2], shape[rank - 1], args.dims, args.mode === 'neox' ? 1 : 0, x.offset, pos.offset, f32Bits(thetaScale), f32Bits(args.freqScale));
  ctx.dispatch(pipeline, params, [ctx.whole(out), x.binding, pos.binding], Math.ceil(count / wg));
  if (x.temp) ctx.free(x.temp);
  if (pos.temp) ctx.free(pos.temp);
}
