// What every kernel needs from the device: pipelines, dispatch into the current batch, new output
// buffers (counted, pooled, poisoned in debug mode), and bindings of the elements a view reads.
import type { Backend } from '../../tensor/backend';
import type { DType } from '../../tensor/dtype';
import { outOfMemoryError, type AllocationFailure } from '../../tensor/errors';
import { View } from '../../tensor/view';
import { CommandBatch } from './batch';
import { BufferPool, sizeClass } from './buffer-pool';
import type { Capabilities } from './capabilities';
import { byteWindow, GpuBuffer, roundUp, viewRange } from './gpu-buffer';
import { type Pipeline, PipelineCache, wgsl } from './shaders';
import { copyToDense } from './kernels/elementwise';

/** Written into new outputs in poison mode: NaN as f32, 2143346349 as i32. */
export const POISON_WORD = 0x7fc0dead;

/** Read-back buffers kept for the next read, at most this many bytes (a decoding loop reads the same logits size every token). */
const STAGING_KEEP_BYTES = 4 * 1024 * 1024;

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
  buffersInUse = 0;
  /** Buffers asked of the device (results, uploads, staging) and results served from the pool instead. */
  buffersCreated = 0;
  buffersReused = 0;
  /** The first error the device reported asynchronously (validation, out of memory, loss): every later use throws it. */
  failure: Error | null = null;
  /** The device's answers on memory not yet received (see allocate). */
  private readonly pendingAnswers = new Set<Promise<void>>();
  /** Buffers made inside each open scope (innermost last). */
  private readonly scopes: Set<GpuBuffer>[] = [];
  /** Results computed from a buffer's contents, kept until it is freed or written in place; see `derived`. */
  private readonly derivedBySource = new Map<GpuBuffer, Map<string, GpuBuffer[]>>();
  private readonly stagingPool = new BufferPool(STAGING_KEEP_BYTES);

  constructor(
    readonly device: GPUDevice,
    readonly caps: Capabilities,
    readonly owner: Backend,
    readonly poison: boolean,
    poolLimitBytes: number,
    /** Most bytes of live and pooled buffers together; past it allocations fail at once, recoverably. */
    readonly maxMemoryBytes: number,
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
    const exact = Math.max(16, roundUp(bytes, 16));
    // Rounded up to a pool size class, but never past a limit the exact size respects.
    const limit = Math.floor((exact <= this.caps.maxBindingBytes ? this.caps.maxBindingBytes : this.caps.maxBufferBytes) / 16) * 16;
    const size = exact <= limit ? Math.min(sizeClass(exact), limit) : exact;
    const pooled = this.pool.take(size);
    if (pooled) this.buffersReused++;
    const gpu = pooled ?? this.createBuffer(size, false, `${length} ${dtype} values`);
    const buffer = this.track(new GpuBuffer(this.owner, dtype, length, gpu));
    if (this.poison) this.fill(gpu, POISON_WORD);
    return buffer;
  }

  /** A new buffer holding `data` (size rounded up to 4 bytes, nothing more). */
  upload(data: Uint8Array, dtype: DType, length: number): GpuBuffer {
    const gpu = this.createBuffer(Math.max(4, roundUp(data.byteLength, 4)), true, `${length} ${dtype} values`);
    new Uint8Array(gpu.getMappedRange()).set(data);
    gpu.unmap();
    return this.track(new GpuBuffer(this.owner, dtype, length, gpu));
  }

  free(buffer: GpuBuffer): void {
    if (buffer.released) return;
    buffer.released = true;
    this.bytesInUse -= buffer.bytes;
    this.buffersInUse--;
    for (const s of this.scopes) s.delete(buffer);
    this.changed(buffer);
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

  /**
   * Buffers computed from `source` alone (e.g. its values quantized for an integer matmul): made by
   * `make` the first time `key` is asked for, then shared until `source` is freed or written, so
   * that q, k and v (or gate and up) quantize their common input once. They belong to `source`,
   * not to a scope.
   */
  derived(source: GpuBuffer, key: string, make: () => GpuBuffer[]): GpuBuffer[] {
    let byKey = this.derivedBySource.get(source);
    let made = byKey?.get(key);
    if (!made) {
      made = make();
      for (const b of made) for (const s of this.scopes) s.delete(b);
      if (!byKey) this.derivedBySource.set(source, (byKey = new Map()));
      byKey.set(key, made);
    }
    return made;
  }

  /** `buffer`'s contents change (an in-place write) or end: what was derived from them is freed. */
  changed(buffer: GpuBuffer): void {
    const derived = this.derivedBySource.get(buffer);
    if (!derived) return;
    this.derivedBySource.delete(buffer);
    for (const made of derived.values()) for (const b of made) this.free(b);
  }

  /** Binding of the f32/i32 elements `view` reads from `buffer`. */
  elements(buffer: GpuBuffer, view: View): ElementBinding {
    const [lo, hi] = viewRange(view);
    const w = byteWindow(buffer, lo * 4, (hi + 1) * 4, this.caps.storageAlign, this.caps.maxBindingBytes);
    if (!w) throw this.tooLarge((hi + 1 - lo) * 4);
    return { binding: w.binding, offset: w.shift / 4 };
  }

  /**
   * The view's elements as dense rows of `dtype` from an element offset: as they are when already
   * so, else copied (the copy is returned as `temp` for the caller to free once its kernel is queued).
   */
  dense(buffer: GpuBuffer, view: View, dtype = buffer.dtype): ElementBinding & { temp: GpuBuffer | null } {
    if (view.isDense() && dtype === buffer.dtype) return { ...this.elements(buffer, view), temp: null };
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

  /**
   * A buffer the CPU maps to read `bytes` of results back; give it back with `returnStaging`. Not
   * counted in bytesInUse: the few kept between reads (at most STAGING_KEEP_BYTES) are a fixed
   * overhead, like the parameter arena.
   */
  staging(bytes: number): GPUBuffer {
    const size = sizeClass(Math.max(4, roundUp(bytes, 4)));
    return this.stagingPool.take(size) ?? this.allocate({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }, 'reading a result back');
  }

  /** A staging buffer whose read is done (unmapped): kept for the next read of that size, or destroyed. */
  returnStaging(gpu: GPUBuffer): void {
    if (!this.stagingPool.put(gpu)) gpu.destroy();
  }

  private track(buffer: GpuBuffer): GpuBuffer {
    this.bytesInUse += buffer.bytes;
    this.buffersInUse++;
    this.scopes[this.scopes.length - 1]?.add(buffer);
    return buffer;
  }

  private destroyBuffer(gpu: GPUBuffer): void {
    this.batch.forget(gpu);
    gpu.destroy();
  }

  /** A tensor's buffer; past maxBufferSize or maxMemoryBytes (once pooled buffers are given back) it fails at once. */
  private createBuffer(size: number, mapped: boolean, what: string): GPUBuffer {
    if (size > this.caps.maxBufferBytes) {
      throw outOfMemoryError({ ...this.request(size, what), limit: { name: 'maxBufferSize', bytes: this.caps.maxBufferBytes, perBuffer: true } });
    }
    if (this.bytesInUse + this.pool.bytes + size > this.maxMemoryBytes) {
      this.trim();
      if (this.bytesInUse + size > this.maxMemoryBytes) {
        throw outOfMemoryError({ ...this.request(size, what), limit: { name: 'maxMemoryBytes', bytes: this.maxMemoryBytes, perBuffer: false } });
      }
    }
    return this.allocate({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, mappedAtCreation: mapped }, what);
  }

  /**
   * createBuffer, with the device's answer on memory: a mapping it cannot allocate throws now; an
   * allocation it cannot back arrives later through the error scope and makes the device unusable
   * (the buffer is invalid), so it becomes `failure`, named with what was asked for and what was held.
   */
  private allocate(descriptor: GPUBufferDescriptor, what: string): GPUBuffer {
    const request = this.request(descriptor.size, what);
    this.device.pushErrorScope('out-of-memory');
    let gpu: GPUBuffer;
    try {
      gpu = this.device.createBuffer(descriptor);
      this.buffersCreated++;
    } catch (e) {
      void this.device.popErrorScope();
      throw outOfMemoryError({ ...request, reported: e instanceof Error ? e.message : String(e) });
    }
    const answer = this.device.popErrorScope().then((error) => {
      this.pendingAnswers.delete(answer);
      if (!error) return;
      const alsoTry = 'open it with maxMemoryBytes below what the device has, so that allocations fail before the device does';
      this.failure ??= outOfMemoryError({ ...request, reported: error.message, fatal: true, alsoTry });
    });
    this.pendingAnswers.add(answer);
    return gpu;
  }

  /** Wait for the device's answer on every allocation made so far (a read must not return data computed in a buffer that failed). */
  async allocationsAnswered(): Promise<void> {
    while (this.pendingAnswers.size) await Promise.all([...this.pendingAnswers]);
  }

  /** An allocation of `bytes` as it would be reported if it failed: with what is held right now. */
  private request(bytes: number, what: string): AllocationFailure {
    return { device: this.owner.description, what, requestedBytes: bytes, heldBytes: this.bytesInUse, liveBuffers: this.buffersInUse };
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
