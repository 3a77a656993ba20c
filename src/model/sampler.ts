// Choosing the next token from logits, in llama.cpp's default order: repetition penalty, top-k,
// top-p, min-p, temperature, then a seeded draw. Temperature 0 is greedy (argmax, first index
// wins ties, as llama.cpp's greedy sampler).

export interface SamplerOptions {
  /** 0: greedy. */
  temperature?: number;
  /** Keep the k most likely tokens (0: all). */
  topK?: number;
  /** Keep the smallest set whose probability reaches p (1: all). */
  topP?: number;
  /** Drop tokens whose probability is below minP x the top token's (0: none). */
  minP?: number;
  /** > 1 discourages tokens seen in the last `repeatLastN` tokens (llama.cpp's rule). */
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number;
}

export class Sampler {
  private readonly random: () => number;

  constructor(readonly options: SamplerOptions = {}) {
    this.random = mulberry32(options.seed ?? 0x5eed);
  }

  /** The next token given the last position's logits and the tokens so far. */
  sample(logits: Float32Array, history: readonly number[]): number {
    const o = this.options;
    const scores = Float64Array.from(logits);
    const penalty = o.repeatPenalty ?? 1;
    if (penalty !== 1) {
      for (const t of new Set(history.slice(-(o.repeatLastN ?? 64)))) {
        scores[t] = scores[t] > 0 ? scores[t] / penalty : scores[t] * penalty;
      }
    }
    if ((o.temperature ?? 0) <= 0) return argmax(scores);

    let candidates = Array.from(scores, (s, id) => ({ id, s })).sort((a, b) => b.s - a.s);
    if (o.topK && o.topK > 0) candidates = candidates.slice(0, o.topK);
    let probs = softmax(candidates.map((c) => c.s));
    if (o.topP !== undefined && o.topP < 1) {
      let acc = 0;
      let keep = candidates.length;
      for (let i = 0; i < probs.length; i++) {
        acc += probs[i];
        if (acc >= o.topP) {
          keep = i + 1;
          break;
        }
      }
      candidates = candidates.slice(0, keep);
      probs = softmax(candidates.map((c) => c.s));
    }
    if (o.minP && o.minP > 0) {
      const floor = probs[0] * o.minP;
      candidates = candidates.filter((_, i) => probs[i] >= floor);
    }
    probs = softmax(candidates.map((c) => c.s / o.temperature!));
    let r = this.random();
    for (let i = 0; i < probs.length; i++) {
      r -= probs[i];
      if (r <= 0) return candidates[i].id;
    }
    return candidates[candidates.length - 1].id;
  }
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
