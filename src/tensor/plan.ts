// A recorded realization, run again: the kernels and writes that computed some tensors, replayed
// on the same buffers after their sources were given new contents (Tensor.overwrite). A decode
// step replayed so skips building and scheduling its graph — llama.cpp reuses its graph between
// steps the same way, and tinygrad's TinyJit replays captured kernels. Nothing of the graph may
// depend on the sources' contents except the values computed (shapes, views, write offsets are
// fixed when recorded): model/decoder.ts pads attention to a fixed length to keep it so.
import type { Backend, DeviceBuffer, PreparedKernel } from './backend';
import { realizeRecording, type PlanStep } from './schedule';
import { TensorError } from './errors';
import type { Tensor } from './tensor';

export class Plan {
  /** Kernels as the backend prepared them at the first replay (Backend.prepare), by step. */
  private readonly prepared: (PreparedKernel | undefined)[] = [];

  private constructor(
    private readonly backend: Backend,
    private readonly steps: readonly PlanStep[],
    private intermediates: DeviceBuffer[] | null,
  ) {}

  /**
   * Realize `targets` (as `realize` does) while recording each kernel and write. The intermediate
   * buffers stay allocated, owned by the plan, so that `replay` can run the same steps on them.
   */
  static async record(targets: readonly Tensor[]): Promise<Plan> {
    if (targets.length === 0) throw new TensorError('Plan.record needs at least one tensor to compute');
    const backend = targets[0].backend;
    const recording = { steps: [] as PlanStep[], intermediates: [] as DeviceBuffer[] };
    try {
      realizeRecording(targets, recording);
    } catch (e) {
      for (const b of recording.intermediates) backend.free(b);
      throw e;
    }
    return new Plan(backend, recording.steps, recording.intermediates);
  }

  /** Kernels and writes one replay runs. */
  get size(): number {
    return this.steps.length;
  }

  /** Run every recorded step again: the targets' buffers then hold what the sources' current contents give. */
  replay(): void {
    if (!this.intermediates) throw new TensorError('this plan was disposed; record a new one');
    const b = this.backend;
    this.steps.forEach((s, i) => {
      if (s.kind === 'run') {
        const prepared = this.prepared[i];
        if (prepared) prepared.run();
        else if (b.prepare) this.prepared[i] = b.prepare(s.kernel, s.out);
        else b.runInto(s.kernel, s.out);
      } else if (s.kind === 'write') b.writeInto(s.into, s.offset, s.from, s.view);
      else b.writeRowsInto(s.into, s.from, s.view, s.indices, s.indicesView);
    });
  }

  /** Free the plan's intermediate buffers (the targets keep theirs); it cannot replay afterwards. */
  dispose(): void {
    for (const p of this.prepared) p?.dispose();
    this.prepared.length = 0;
    for (const buffer of this.intermediates ?? []) this.backend.free(buffer);
    this.intermediates = null;
  }
}
