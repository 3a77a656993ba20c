// The WebGPU backend: tensors live in GPU buffers, every op is a WGSL kernel queued into a command
// batch, and values come back through a mapped staging buffer. Quantized weights stay in their GGUF
// blocks on the device (their byte size, rounded up to 4) and are decoded inside the kernels.
import type { Backend, DeviceBuffer, Kernel, OpKernel } from '../../tensor/backend';
import { dtypeBytes, isComputeDType, type DType } from '../../tensor/dtype';
import { numel, type View } from '../../tensor/view';
import type { Capabilities } from './capabilities';
import { KernelContext } from './context';
import { releaseDawn } from './dawn';
import { GpuBuffer } from './gpu-buffer';
import { copyToDense, runElementwise } from './kernels/elementwise';
import { runReduce } from './kernels/reduce';
import { runMatmul } from './kernels/matmul';
import { runLinear } from './kernels/linear';
import { runRmsNorm } from './kernels/rms-norm';
import { runRope } from './kernels/rope';
import { runSoftmax } from './kernels/softmax';
import { runGetRows } from './kernels/get-rows';
import { runConcat } from './kernels/concat';
import { writeRows } from './kernels/write-rows';

export interface WebGPUBackendOptions {
  /** Fill every new output with NaN before its kernel runs, so unwritten elements show (tests, debugging). */
  poison?: boolean;
  /** Bytes of freed buffers kept for reuse (default 256 MiB). */
  poolBytes?: number;
  /**
   * Most bytes this backend keeps on the device, live tensors and pooled buffers together (default:
   * no cap but the device's own). Past it an allocation fails at once with what was asked for and
   * what is held, and the backend stays usable; a device that runs out of memory itself is lost.
   */
  maxMemoryBytes?: number;
}

export interface WebGPUStats {
  /** Compute dispatches encoded, in all and per kind of kernel (linearVector, rmsNorm, elementwise, ...). */
  dispatches: number;
  dispatchesByKernel: Record<string, number>;
  /** queue.submit calls: one per read, plus one per full batch (see batch.ts). */
  submits: number;
  /** Buffer-to-buffer copies (in-place writes such as KV cache rows, read-backs). */
  copies: number;
  /** GPU buffers created (results, uploads, read-back staging), and results that reused a pooled buffer instead. */
  buffersCreated: number;
  buffersReused: number;
  bindGroupsCreated: number;
  /** Compiled pipelines (cached for the device's lifetime). */
  pipelines: number;
}

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly description: string;
  private readonly ctx: KernelContext;
  private destroyed = false;

  constructor(
    private readonly gpu: GPU,
    readonly device: GPUDevice,
    readonly capabilities: Capabilities,
    options: WebGPUBackendOptions = {},
  ) {
    this.description = `webgpu: ${capabilities.adapter}`;
    this.ctx = new KernelContext(device, capabilities, this, options.poison ?? false, options.poolBytes ?? 256 * 1024 * 1024, options.maxMemoryBytes ?? Infinity);
    device.addEventListener('uncapturederror', (event) => {
      this.ctx.failure ??= new Error(`${this.description} reported an error: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
    void device.lost.then((info) => {
      if (!this.destroyed) this.ctx.failure ??= new Error(`${this.description} reported an error: device lost: ${info.message || info.reason}`);
    });
  }

  /** Bytes held by live tensors' buffers. */
  get bytesInUse(): number {
    return this.ctx.bytesInUse;
  }

  /** Bytes of freed buffers kept for reuse (given back by `trim()`). */
  get bytesPooled(): number {
    return this.ctx.pool.bytes;
  }

  /** Work done since the device was opened (counted always; take differences around what you measure). */
  get stats(): WebGPUStats {
    const { batch, pipelines } = this.ctx;
    return {
      dispatches: batch.dispatchCount,
      dispatchesByKernel: Object.fromEntries(batch.dispatchesByKernel),
      submits: batch.submitCount,
      copies: batch.copyCount,
      buffersCreated: this.ctx.buffersCreated,
      buffersReused: this.ctx.buffersReused,
      bindGroupsCreated: batch.bindGroupsCreated,
      pipelines: pipelines.size,
    };
  }

  upload(data: Float32Array | Int32Array | Uint8Array, dtype: DType, length: number): DeviceBuffer {
    this.checkUsable();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, dtypeBytes(dtype, length));
    return this.ctx.upload(bytes, dtype, length);
  }

  run(kernel: Kernel): DeviceBuffer {
    this.checkUsable();
    const length = numel(kernel.shape);
    const out = this.ctx.output(kernel.dtype, length, dtypeBytes(kernel.dtype, length));
    try {
      this.encode(kernel, out);
    } catch (e) {
      this.ctx.free(out);
      throw e;
    }
    return out;
  }

  runInto(kernel: Kernel, out: DeviceBuffer): void {
    this.checkUsable();
    const own = this.checkOwn(out);
    this.ctx.changed(own);
    this.encode(kernel, own);
  }

  writeRowsInto(target: DeviceBuffer, source: DeviceBuffer, view: View, indices: DeviceBuffer, indicesView: View): void {
    this.checkUsable();
    writeRows(this.ctx, this.checkOwn(target), this.checkOwn(source), view, this.checkOwn(indices), indicesView);
  }

  overwrite(buffer: DeviceBuffer, data: Float32Array | Int32Array): void {
    this.checkUsable();
    const into = this.checkOwn(buffer);
    // Through a copy in the batch, so that commands queued before still read the old values.
    const staged = this.ctx.upload(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), into.dtype, data.length);
    this.ctx.changed(into);
    if (data.length > 0) this.ctx.batch.copy(staged.gpu, 0, into.gpu, 0, data.byteLength);
    this.ctx.free(staged);
  }

  writeInto(target: DeviceBuffer, offset: number, source: DeviceBuffer, view: View): void {
    this.checkUsable();
    const into = this.checkOwn(target);
    const own = this.checkOwn(source);
    this.ctx.changed(into);
    const dense = view.isDense() ? own : copyToDense(this.ctx, own, view);
    if (view.size > 0) this.ctx.batch.copy(dense.gpu, view.isDense() ? view.offset * 4 : 0, into.gpu, offset * 4, view.size * 4);
    // Commands run in the order they were queued, so the copy reads the buffer before any reuse.
    if (dense !== own) this.ctx.free(dense);
  }

  async read(buffer: DeviceBuffer, view: View): Promise<Float32Array | Int32Array> {
    this.checkUsable();
    const own = this.checkOwn(buffer);
    if (!isComputeDType(own.dtype)) throw new Error(`reading a ${own.dtype} buffer needs a cast to f32 first`);
    const source = view.isDense() ? own : copyToDense(this.ctx, own, view);
    const start = view.isDense() ? view.offset * 4 : 0;
    const bytes = view.size * 4;
    const staging = this.ctx.staging(bytes);
    let done = false;
    try {
      if (bytes > 0) this.ctx.batch.copy(source.gpu, start, staging, 0, bytes);
      this.ctx.batch.submit();
      if (source !== own) this.ctx.free(source);
      await staging.mapAsync(GPUMapMode.READ);
      await this.ctx.allocationsAnswered();
      this.checkUsable();
      const copy = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      done = true;
      return own.dtype === 'i32' ? new Int32Array(copy) : new Float32Array(copy);
    } finally {
      if (done) this.ctx.returnStaging(staging);
      else staging.destroy();
    }
  }

  free(buffer: DeviceBuffer): void {
    if (this.destroyed) return;
    this.ctx.free(this.checkOwn(buffer, true));
  }

  /** Submit every queued kernel now (reads do this themselves). */
  flush(): void {
    this.ctx.batch.submit();
  }

  /** Give the pooled (freed) buffers back to the device; returns their bytes. */
  trim(): number {
    return this.ctx.trim();
  }

  /** Start recording the buffers made from here on (see src/tensor/scope.ts). */
  beginScope(): void {
    this.ctx.beginScope();
  }

  /** Free every buffer made since the matching beginScope, except `keep`; returns the bytes freed. */
  endScope(keep: ReadonlySet<DeviceBuffer>): number {
    return this.ctx.endScope(keep as ReadonlySet<GpuBuffer>);
  }

  /** Release the device and everything on it; tensors of this backend are unusable afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.ctx.trim();
    this.ctx.batch.destroy();
    this.destroyed = true;
    this.device.destroy();
    releaseDawn(this.gpu);
  }

  private encode(kernel: Kernel, out: GpuBuffer): void {
    const inputs = kernel.kind === 'elementwise' ? kernel.inputs : kernel.inputs.map((i) => i.buffer);
    for (const b of inputs) this.checkOwn(b);
    if (kernel.kind === 'elementwise') runElementwise(this.ctx, kernel, out);
    else this.runOp(kernel, out);
  }

  private runOp(k: OpKernel, out: GpuBuffer): void {
    const a = k.args;
    switch (a.op) {
      case 'sum':
      case 'max':
      case 'min':
      case 'argmax':
        return runReduce(this.ctx, k, a.op, a.axis, out);
      case 'matmul':
        return runMatmul(this.ctx, k, out);
      case 'linear':
        return runLinear(this.ctx, k, a.activationType, out);
      case 'rmsNorm':
        return runRmsNorm(this.ctx, k, a.eps, out);
      case 'rope':
        return runRope(this.ctx, k, a, out);
      case 'softmax':
        return runSoftmax(this.ctx, k, a, out);
      case 'getRows':
        return runGetRows(this.ctx, k, out);
      case 'concat':
        return runConcat(this.ctx, k, a.axis, out);
      default:
        throw new Error(`the WebGPU backend has no kernel for ${a.op}`);
    }
  }

  private checkUsable(): void {
    if (this.destroyed) throw new Error(`${this.description} was destroyed; open a new backend (openWebGPU or useBackend)`);
    if (this.ctx.failure) throw this.ctx.failure;
  }

  private checkOwn(buffer: DeviceBuffer, allowReleased = false): GpuBuffer {
    if (!(buffer instanceof GpuBuffer) || buffer.backend !== this) throw new Error(`a buffer of ${buffer.backend.description} was passed to ${this.description}`);
    if (buffer.released && !allowReleased) {
      throw new Error(`a tensor's device buffer was already released (by dispose() or by the scope that created it); return the tensor from its scope to keep it`);
    }
    return buffer;
  }
}
