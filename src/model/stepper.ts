// The forward pass one hook point at a time, for notebooks: look at the state after each op,
// replace a value before going on, or jump to the end of the next block.
//
//   const s = new Stepper(model, tokens);
//   s.next();                       // { name: 'hook_embed', tensor }
//   s.runTo('blocks.0.attn.hook_pattern');
//   await s.current!.tensor.data();
//   s.nextBlock();                  // to blocks.1.hook_resid_post
//   const logits = s.finish();
import type { Tensor } from '../tensor';
import type { ForwardOptions, ForwardSteps, HookEvent, LlamaModel } from './llama';

export class Stepper {
  private readonly steps: ForwardSteps;
  /** The hook point reached last (null before the first step). */
  current: HookEvent | null = null;
  /** Every value seen so far, by hook name (lazy tensors: realize the ones you look at). */
  readonly seen = new Map<string, Tensor>();
  /** The logits, once the pass is complete. */
  logits: Tensor | null = null;
  private pendingReplacement: Tensor | undefined;

  constructor(
    readonly model: LlamaModel,
    readonly tokens: ArrayLike<number>,
    readonly options: ForwardOptions = {},
  ) {
    this.steps = model.steps(tokens, options);
  }

  get done(): boolean {
    return this.logits !== null;
  }

  /** Replace the current hook point's value (takes effect when stepping on). */
  replace(tensor: Tensor): void {
    if (!this.current) throw new Error('nothing to replace yet: call next() first');
    this.pendingReplacement = tensor;
    this.seen.set(this.current.name, tensor);
  }

  /** Advance one hook point; null once the pass is complete (then `logits` is set). */
  next(): HookEvent | null {
    if (this.done) return null;
    const step = this.steps.next(this.pendingReplacement);
    this.pendingReplacement = undefined;
    if (step.done) {
      this.logits = step.value;
      this.current = null;
      this.options.cache?.commit(this.tokens.length);
      return null;
    }
    this.current = step.value;
    this.seen.set(step.value.name, step.value.tensor);
    return step.value;
  }

  /** Advance until the named hook point; throws if the pass ends first. */
  runTo(name: string): HookEvent {
    for (let e = this.next(); e; e = this.next()) if (e.name === name) return e;
    throw new Error(`the forward pass has no hook point '${name}' ahead; see hookPoints() for the names`);
  }

  /** Advance to the end of the next block (its hook_resid_post). */
  nextBlock(): HookEvent {
    for (let e = this.next(); e; e = this.next()) if (e.name.endsWith('.hook_resid_post')) return e;
    throw new Error('no block left: the pass is at the final norm; call finish()');
  }

  /** Run to the end; returns the logits (lazy). */
  finish(): Tensor {
    while (this.next());
    return this.logits!;
  }
}
