// Does the KV-cached (incremental) forward equal the full forward? (seed 002's question)
// The full pass sees all tokens at once; the incremental pass feeds them one at a time through the
// KV cache. Every block's output (hook_resid_post) must agree at every position; the first pair
// (layer, position) that does not is where a cache bug shows itself.
import type { LlamaModel, Hooks, NumericMode } from '../model/llama';
import { realize, type Tensor } from '../tensor';

export interface KVCheckCell {
  layer: number;
  position: number;
  /** max |incremental - full| over the hidden vector. */
  maxAbsError: number;
  /** maxAbsError / max |full| of that vector. */
  relativeError: number;
}

export interface KVCheckResult {
  /** One cell per (layer, position), layer-major. */
  cells: KVCheckCell[];
  layers: number;
  positions: number;
  tolerance: number;
  /** The first cell (by position, then layer) beyond tolerance. */
  firstFailure?: KVCheckCell;
  passed: boolean;
}

export interface KVCheckOptions {
  mode?: NumericMode;
  /** Relative error allowed (default 1e-4: float32 summation-order noise is far below). */
  tolerance?: number;
  /** Hooks applied to the incremental pass only, called with the position being fed (for patching or injecting faults). */
  incrementalHooks?: (position: number) => Hooks;
}

export async function kvCheck(model: LlamaModel, tokens: readonly number[], options: KVCheckOptions = {}): Promise<KVCheckResult> {
  const L = model.hparams.blockCount;
  const names = Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_post`);
  const full = await model.runWithCache(tokens, { mode: options.mode, names });
  const fullRows = await Promise.all(names.map((n) => full.cache.get(n)!.data()));

  const cache = model.newCache();
  const incremental: Float32Array[][] = names.map(() => []);
  for (let p = 0; p < tokens.length; p++) {
    const captured: Tensor[] = [];
    const hooks: Hooks = { ...(options.incrementalHooks?.(p) ?? {}) };
    for (const n of names) {
      const user = hooks[n];
      hooks[n] = (t, name) => {
        const out = user?.(t, name) ?? t;
        captured.push(out);
        return out;
      };
    }
    const logits = model.forward([tokens[p]], { mode: options.mode, cache, hooks, logits: 'last' });
    await realize(logits, ...captured, ...cache.tensors());
    cache.releaseRetired();
    for (let l = 0; l < L; l++) incremental[l].push((await captured[l].data()) as Float32Array);
  }

  const E = model.hparams.embeddingLength;
  const tolerance = options.tolerance ?? 1e-4;
  const cells: KVCheckCell[] = [];
  for (let l = 0; l < L; l++) {
    for (let p = 0; p < tokens.length; p++) {
      const ref = fullRows[l].subarray(p * E, (p + 1) * E);
      const got = incremental[l][p];
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < E; i++) {
        diff = Math.max(diff, Math.abs(got[i] - ref[i]));
        scale = Math.max(scale, Math.abs(ref[i]));
      }
      cells.push({ layer: l, position: p, maxAbsError: diff, relativeError: scale ? diff / scale : diff });
    }
  }
  const failures = cells.filter((c) => !(c.relativeError <= tolerance)).sort((a, b) => a.position - b.position || a.layer - b.layer);
  return { cells, layers: L, positions: tokens.length, tolerance, firstFailure: failures[0], passed: failures.length === 0 };
}
