// Kernels are encoded as they are queued and submitted together: one command buffer carries many
// dispatches, flushed when a value is read, after MAX_DISPATCHES_PER_SUBMIT, or when the parameter
// arena is full. A decoded token is therefore ceil(dispatches / MAX_DISPATCHES_PER_SUBMIT) submits
// (the read of the logits carries the last chunk): chunks let the GPU start on the first blocks
// while the host still encodes the rest, and each costs one queue.submit. Each dispatch gets its own
// slice of one uniform buffer for its parameters (shapes, strides, offsets), bound at a dynamic
// offset, so pipelines depend only on the kind of work and bind groups only on the buffers: both
// are cached (creating a bind group costs more host time than encoding the dispatch). Buffers freed
// while commands that use them are still unsubmitted are destroyed only after the submit.
import type { Capabilities } from './capabilities';
import { roundUp } from './gpu-buffer';
import type { Pipeline } from './shaders';

const PARAMS_ARENA_BYTES = 64 * 1024;
export const MAX_DISPATCHES_PER_SUBMIT = 128;
/** Cached bind groups beyond this are dropped (all at once: a decoding loop refills what it uses). */
const MAX_BIND_GROUPS = 8192;

export class CommandBatch {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** The pipeline last set on `pass`: consecutive dispatches of one kernel (q, k, v) set it once. */
  private passPipeline: Pipeline | null = null;
  private readonly arena = new Uint8Array(PARAMS_ARENA_BYTES);
  private arenaUsed = 0;
  private readonly paramsBuffer: GPUBuffer;
  private pendingDispatches = 0;
  private afterSubmit: (() => void)[] = [];
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  /** Cache keys of the bind groups each buffer appears in, to drop them when it is destroyed. */
  private readonly keysByBuffer = new Map<GPUBuffer, Set<string>>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 0;
  /** Dispatches encoded since the device was opened, in all and per kind of kernel. */
  dispatchCount = 0;
  readonly dispatchesByKernel = new Map<string, number>();
  submitCount = 0;
  copyCount = 0;
  bindGroupsCreated = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly caps: Capabilities,
  ) {
    this.paramsBuffer = device.createBuffer({ size: PARAMS_ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'kernel parameters' });
  }

  /**
   * Queue `groups` workgroups of `kernel` (more than one dimension allows are laid out in 2-D:
   * kernels number them as workgroup_id.y * num_workgroups.x + workgroup_id.x). Binding 0 is the
   * parameter block, bindings 1.. are `buffers` in order.
   */
  dispatch(kernel: Pipeline, params: Uint32Array, buffers: GPUBufferBinding[], groups: number): void {
    if (groups === 0) return;
    const bytes = roundUp(Math.max(params.byteLength, 16), 16);
    let offset = roundUp(this.arenaUsed, this.caps.uniformAlign);
    if (offset + bytes > PARAMS_ARENA_BYTES || this.pendingDispatches >= MAX_DISPATCHES_PER_SUBMIT) {
      this.submit();
      offset = 0;
    }
    this.arena.set(new Uint8Array(params.buffer, params.byteOffset, params.byteLength), offset);
    this.arena.fill(0, offset + params.byteLength, offset + bytes);
    this.arenaUsed = offset + bytes;
    const bindGroup = this.bindGroup(kernel, bytes, buffers);

    const maxX = this.caps.maxWorkgroupsPerDimension;
    const x = Math.min(groups, maxX);
    const y = Math.ceil(groups / maxX);
    if (y > maxX) throw new Error(`a kernel needs ${groups} workgroups, more than this device can launch (${maxX} x ${maxX})`);
    const pass = this.computePass();
    if (this.passPipeline !== kernel) pass.setPipeline(kernel.pipeline);
    this.passPipeline = kernel;
    pass.setBindGroup(0, bindGroup, [offset]);
    pass.dispatchWorkgroups(x, y);
    this.pendingDispatches++;
    this.dispatchCount++;
    this.dispatchesByKernel.set(kernel.kernel, (this.dispatchesByKernel.get(kernel.kernel) ?? 0) + 1);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.copyCount++;
  }

  /** Run `fn` once everything queued so far has been submitted. */
  whenSubmitted(fn: () => void): void {
    if (this.encoder) this.afterSubmit.push(fn);
    else fn();
  }

  submit(): void {
    if (this.encoder) {
      this.endPass();
      // Queue order: this write lands before the commands below run and after the previous
      // submit's commands have read their parameters.
      if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.paramsBuffer, 0, this.arena, 0, this.arenaUsed);
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.submitCount++;
    }
    this.arenaUsed = 0;
    this.pendingDispatches = 0;
    const callbacks = this.afterSubmit;
    this.afterSubmit = [];
    for (const fn of callbacks) fn();
  }

  /** Drop the cached bind groups that use `buffer` (before it is destroyed). */
  forget(buffer: GPUBuffer): void {
    for (const key of this.keysByBuffer.get(buffer) ?? []) this.bindGroups.delete(key);
    this.keysByBuffer.delete(buffer);
  }

  destroy(): void {
    this.paramsBuffer.destroy();
  }

  private bindGroup(kernel: Pipeline, paramBytes: number, buffers: GPUBufferBinding[]): GPUBindGroup {
    let key = `${kernel.id}:${paramBytes}`;
    for (const b of buffers) key += `|${this.bufferId(b.buffer)}:${b.offset ?? 0}:${b.size ?? ''}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      if (this.bindGroups.size >= MAX_BIND_GROUPS) {
        this.bindGroups.clear();
        this.keysByBuffer.clear();
      }
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.paramsBuffer, offset: 0, size: paramBytes } }];
      buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: b }));
      group = this.device.createBindGroup({ layout: kernel.layout, entries });
      this.bindGroupsCreated++;
      this.bindGroups.set(key, group);
      for (const b of buffers) {
        let keys = this.keysByBuffer.get(b.buffer);
        if (!keys) this.keysByBuffer.set(b.buffer, (keys = new Set()));
        keys.add(key);
      }
    }
    return group;
  }

  private bufferId(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) this.bufferIds.set(buffer, (id = this.nextBufferId++));
    return id;
  }

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private computePass(): GPUComputePassEncoder {
    return (this.pass ??= this.commandEncoder().beginComputePass());
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
      this.passPipeline = null;
    }
  }
}
