// What every kernel needs from the device: pipelines, dispatch into the current batch, new output
// buffers (counted, pooled, poisoned in debug mode), and bindings of the elements a view reads.
import type { Backend } from '../../tensor/backend';
import type { DType } from '../../tensor/dtype';
import { View } from '../../tensor/view';
import { CommandBatch } from './batch';
import { BufferPool } from './buffer-pool';
import type { Capabilities } from './capabilities';
import { byteWindow, GpuBuffer, isDense, roundUp, viewRange } from './gpu-buffer';
import { type Pipeline, PipelineCache, wgsl } from './shaders';
import { copyToDense } from './kernels/elementwise';

/** Written into new outputs in poison mode: NaN as f32, 2143346349 as i32. */
export const POISON_WORD = 0x7fc0dead;

/** f32/i32 elements bound for a kernel: element `offset` of the binding is the view's first. */
export interface ElementBinding {
  binding: GPUBufferBinding;
  offset: number;
}

export class KernelContext {
  readonly batch: CommandBatch;
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  bytesInUse = 0;
  /** Buffers made inside each open scope (innermost last). */
  private readonly scopes: Set<GpuBuffer>[] = [];

  constructor(
    readonly device: GPUDevice,
    readonly caps: Capabilities,
    readonly owner: Backend,
    readonly poison: boolean,
    poolLimitBytes: number,
  ) {
    this.batch = new CommandBatch(device, caps);
    this.pipelines = new PipelineCache(device);
    this.pool = new BufferPool(poolLimitBytes);
  }

  dispatch(pipeline: Pipeline, params: Uint32Array, buffers: GPUBufferBinding[], groups: number): void {
    this.batch.dispatch(pipeline, params, buffers, groups);
  }

  /** A buffer for `length` elements of a kernel's result: reused from the pool when possible. */
  output(dtype: DType, length: number, bytes: number): GpuBuffer {
    const size = Math.max(16, roundUp(bytes, 16));
    const gpu = this.pool.take(size) ?? this.createBuffer(size, false);
    const buffer = this.track(new GpuBuffer(this.owner, dtype, length, gpu));
    if (this.poison) this.fill(gpu, POISON_WORD);
    return buffer;
  }

  /** A new buffer holding `data` (size rounded up to 4 bytes, nothing more). */
  upload(data: Uint8Array, dtype: DType, length: number): GpuBuffer {
    const gpu = this.createBuffer(Math.max(4, roundUp(data.byteLength, 4)), true);
    new Uint8Array(gpu.getMappedRange()).set(data);
    gpu.unmap();
    return this.track(new GpuBuffer(this.owner, dtype, length, gpu));
  }

  free(buffer: GpuBuffer): void {
    if (buffer.released) return;
    buffer.released = true;
    this.bytesInUse -= buffer.bytes;
    for (const s of this.scopes) s.delete(buffer);
    const gpu = buffer.gpu;
    // Reuse is safe even while queued commands still read it (they run in queue order);
    // destroying is not until those commands are submitted.
    if (!this.pool.put(gpu)) this.batch.whenSubmitted(() => this.destroyBuffer(gpu));
  }

  /** Destroy every pooled buffer; returns the bytes given back. */
  trim(): number {
    const buffers = this.pool.drain();
    this.batch.submit();
    let bytes = 0;
    for (const b of buffers) {
      bytes += b.size;
      this.destroyBuffer(b);
    }
    return bytes;
  }

  beginScope(): void {
    this.scopes.push(new Set());
  }

  /** Free what the innermost scope made, except `keep` (which the enclosing scope inherits). */
  endScope(keep: ReadonlySet<GpuBuffer>): number {
    const made = this.scopes.pop();
    if (!made) throw new Error('endScope without beginScope');
    let freed = 0;
    for (const b of made) {
      if (keep.has(b)) {
        this.scopes[this.scopes.length - 1]?.add(b);
      } else {
        freed += b.bytes;
        this.free(b);
      }
    }
    return freed;
  }

  /** Binding of the f32/i32 elements `view` reads from `buffer`. */
  elements(buffer: GpuBuffer, view: View): ElementBinding {
    const [lo, hi] = viewRange(view);
    const w = byteWindow(buffer.gpu, lo * 4, (hi + 1) * 4, this.caps.storageAlign, this.caps.maxBindingBytes);
    if (!w) throw this.tooLarge((hi + 1 - lo) * 4);
    return { binding: w.binding, offset: w.shift / 4 };
  }

  /**
   * The view's elements as dense rows of `dtype` from an element offset: as they are when already
   * so, else copied (the copy is returned as `temp` for the caller to free once its kernel is queued).
   */
  dense(buffer: GpuBuffer, view: View, dtype = buffer.dtype): ElementBinding & { temp: GpuBuffer | null } {
    if (isDense(view) && dtype === buffer.dtype) return { ...this.elements(buffer, view), temp: null };
    const temp = copyToDense(this, buffer, view, dtype as 'f32' | 'i32');
    return { ...this.elements(temp, View.contiguous(view.shape)), temp };
  }

  /** The whole of a kernel's output buffer as one binding. */
  whole(buffer: GpuBuffer): GPUBufferBinding {
    if (buffer.bytes > this.caps.maxBindingBytes) throw this.tooLarge(buffer.bytes);
    return { buffer: buffer.gpu };
  }

  tooLarge(bytes: number): Error {
    return new Error(
      `one kernel would bind ${bytes} bytes of a tensor, more than this device binds at once (${this.caps.maxBindingBytes}, maxStorageBufferBindingSize); ` +
        `only linear and getRows split large weights by rows: slice the tensor into smaller parts first`,
    );
  }

  private track(buffer: GpuBuffer): GpuBuffer {
    this.bytesInUse += buffer.bytes;
    this.scopes[this.scopes.length - 1]?.add(buffer);
    return buffer;
  }

  private destroyBuffer(gpu: GPUBuffer): void {
    this.batch.forget(gpu);
    gpu.destroy();
  }

  private createBuffer(size: number, mapped: boolean): GPUBuffer {
    if (size > this.caps.maxBufferBytes) {
      throw new Error(`a tensor of ${size} bytes exceeds this device's largest buffer (${this.caps.maxBufferBytes} bytes, maxBufferSize); keep it on the CPU backend or split it`);
    }
    return this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, mappedAtCreation: mapped });
  }

  /** Fill a whole buffer with one 32-bit word (window by window if it exceeds one binding). */
  private fill(gpu: GPUBuffer, word: number): void {
    const wg = this.caps.workgroupSize;
    const pipeline = this.pipelines.get('fill', () => wgsl('kernels/fill.wgsl', { WG: wg }));
    if (gpu.size <= this.caps.maxBindingBytes) {
      this.dispatch(pipeline, Uint32Array.of(gpu.size / 4, word), [{ buffer: gpu }], Math.ceil(gpu.size / 4 / wg));
      return;
    }
    const step = Math.floor(this.caps.maxBindingBytes / this.caps.storageAlign) * this.caps.storageAlign;
    for (let offset = 0; offset < gpu.size; offset += step) {
      const size = Math.min(step, gpu.size - offset);
      this.dispatch(pipeline, Uint32Array.of(size / 4, word), [{ buffer: gpu, offset, size }], Math.ceil(size / 4 / wg));
    }
  }
}
