// The CPU backend: plain TypeScript kernels on typed arrays. It is the reference every other
// backend is tested against, and the fallback where no GPU adapter exists.
import type { Backend, DeviceBuffer, Kernel, OpKernel } from '../../tensor/backend';
import { blockType, isComputeDType, type DType } from '../../tensor/dtype';
import { View, numel } from '../../tensor/view';
import { CpuBuffer, materialize } from './buffer';
import { runElementwise } from './elementwise';
import { reduce } from './ops/reduce';
import { matmul } from './ops/matmul';
import { linear } from './ops/linear';
import { rmsNorm } from './ops/rms-norm';
import { rope } from './ops/rope';
import { softmax } from './ops/softmax';
import { getRows } from './ops/get-rows';
import { concat } from './ops/concat';

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly description = 'cpu (TypeScript reference kernels)';
  bytesInUse = 0;

  upload(data: Float32Array | Int32Array | Uint8Array, dtype: DType, length: number): DeviceBuffer {
    return this.track(new CpuBuffer(this, dtype, length, data.slice()));
  }

  run(kernel: Kernel): DeviceBuffer {
    const out = this.allocate(kernel.dtype, numel(kernel.shape));
    if (kernel.kind === 'elementwise') {
      runElementwise(kernel, out.data as Float32Array | Int32Array, kernel.inputs.map((b) => (b as CpuBuffer).data as Float32Array | Int32Array));
    } else {
      this.runOp(kernel, out.data as Float32Array | Int32Array);
    }
    return out;
  }

  async read(buffer: DeviceBuffer, view: View): Promise<Float32Array | Int32Array> {
    const data = (buffer as CpuBuffer).data;
    if (data instanceof Uint8Array) throw new Error(`reading a ${buffer.dtype} buffer needs a cast to f32 first`);
    const values = materialize(data, view);
    return values === data ? data.slice() : values;
  }

  free(buffer: DeviceBuffer): void {
    this.bytesInUse -= buffer.bytes;
  }

  private allocate(dtype: DType, length: number): CpuBuffer {
    return this.track(new CpuBuffer(this, dtype, length, dtype === 'i32' ? new Int32Array(length) : new Float32Array(length)));
  }

  private track(b: CpuBuffer): CpuBuffer {
    this.bytesInUse += b.bytes;
    return b;
  }

  private runOp(k: OpKernel, out: Float32Array | Int32Array): void {
    const values = (i: number) => {
      const { buffer, view } = k.inputs[i];
      return materialize((buffer as CpuBuffer).data as Float32Array | Int32Array, view);
    };
    const a = k.args;
    switch (a.op) {
      case 'sum':
      case 'max':
      case 'min':
      case 'argmax':
        return reduce(a.op, values(0), k.inputs[0].view.shape, a.axis, out);
      case 'matmul': {
        const [x, y] = [k.inputs[0].view, k.inputs[1].view];
        const batchShape = k.shape.slice(0, -2);
        const m = x.shape[x.rank - 2], inner = x.shape[x.rank - 1], n = y.shape[y.rank - 1];
        const expandTo = (v: View, rows: number, cols: number) => v.expand([...batchShape, rows, cols]);
        const A = materialize((k.inputs[0].buffer as CpuBuffer).data as Float32Array, expandTo(x, m, inner));
        const B = materialize((k.inputs[1].buffer as CpuBuffer).data as Float32Array, expandTo(y, inner, n));
        return matmul(A, B, numel(batchShape), m, inner, n, out as Float32Array, a.ggml);
      }
      case 'linear': {
        const x = values(0) as Float32Array;
        const w = k.inputs[1];
        const width = w.view.shape[1];
        const type = isComputeDType(w.buffer.dtype) ? null : blockType(w.buffer.dtype);
        const wData = type ? ((w.buffer as CpuBuffer).data as Uint8Array) : (materialize((w.buffer as CpuBuffer).data as Float32Array, w.view) as Float32Array);
        return linear(x, x.length / width, width, wData, type, w.view.shape[0], a.activationType, out as Float32Array);
      }
      case 'rmsNorm':
        return rmsNorm(values(0) as Float32Array, k.shape[k.shape.length - 1], a.eps, out as Float32Array);
      case 'rope':
        return rope(values(0) as Float32Array, k.shape, values(1) as Int32Array, a, out as Float32Array);
      case 'softmax':
        return softmax(values(0) as Float32Array, k.shape, a, out as Float32Array);
      case 'getRows': {
        const table = k.inputs[0];
        const type = isComputeDType(table.buffer.dtype) ? null : blockType(table.buffer.dtype);
        const data = type ? ((table.buffer as CpuBuffer).data as Uint8Array) : (values(0) as Float32Array);
        return getRows(data, type, table.view.shape[0], table.view.shape[1], values(1) as Int32Array, out as Float32Array);
      }
      case 'concat':
        return concat(k.inputs.map((_, i) => values(i)), k.inputs.map((x) => x.view.shape), a.axis, out);
      default:
        throw new Error(`the CPU backend has no kernel for ${a.op}`);
    }
  }
}
