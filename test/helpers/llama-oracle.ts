// llama.cpp itself (node-llama-cpp's prebuilt CPU build) as a live oracle: full next-token logits
// at every position of a token sequence, and greedy generation. ESM-only, so loaded with import().

interface OracleModel {
  createContext(options: { contextSize: number; threads: number; batchSize?: number; flashAttention?: boolean }): Promise<OracleContext>;
  dispose(): Promise<void>;
}
interface OracleContext {
  getSequence(): OracleSequence;
  dispose(): Promise<void>;
}
interface OracleSequence {
  controlledEvaluate(input: (number | [number, { generateNext: { logits: true } }])[]): Promise<({ next?: { logits?: Map<number, number> } } | undefined)[]>;
}
interface OracleLlama {
  loadModel(options: { modelPath: string }): Promise<OracleModel>;
  dispose(): Promise<void>;
}

let llamaPromise: Promise<OracleLlama> | null = null;

async function llama(): Promise<OracleLlama> {
  if (!llamaPromise) {
    llamaPromise = (async () => {
      const { getLlama } = (await import('node-llama-cpp')) as unknown as { getLlama(o: object): Promise<OracleLlama> };
      return getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, progressLogs: false, logLevel: 'error' });
    })();
  }
  return llamaPromise;
}

type Evaluated = Awaited<ReturnType<OracleSequence['controlledEvaluate']>>[number];

/** The logits llama.cpp returned for position `i`, as a row of vocabSize. */
function logitRow(evaluated: Evaluated, i: number, vocabSize: number): Float32Array {
  const map = evaluated?.next?.logits;
  if (!map) throw new Error(`llama.cpp returned no logits for position ${i}`);
  const row = new Float32Array(vocabSize);
  for (const [id, v] of map) row[id] = v;
  return row;
}

export class LlamaCppOracle {
  private constructor(private readonly model: OracleModel) {}

  static async open(modelPath: string): Promise<LlamaCppOracle> {
    return new LlamaCppOracle(await (await llama()).loadModel({ modelPath }));
  }

  /** Logits after each token of `tokens` (one batch, fresh context): rows of vocabSize. */
  async logits(tokens: readonly number[], vocabSize: number, contextSize = 256): Promise<Float32Array[]> {
    const ctx = await this.model.createContext({ contextSize, threads: 2, batchSize: Math.max(tokens.length, 8), flashAttention: false });
    try {
      const res = await ctx.getSequence().controlledEvaluate(tokens.map((t) => [t, { generateNext: { logits: true } }]));
      return res.map((r, i) => logitRow(r, i, vocabSize));
    } finally {
      await ctx.dispose();
    }
  }

  /** Logits after each token of `tokens` fed one at a time to one sequence (a decode step each, as in generation): rows of vocabSize. */
  async stepLogits(tokens: readonly number[], vocabSize: number, contextSize: number): Promise<Float32Array[]> {
    const ctx = await this.model.createContext({ contextSize, threads: 2, batchSize: 8, flashAttention: false });
    try {
      const sequence = ctx.getSequence();
      const rows: Float32Array[] = [];
      for (const [i, t] of tokens.entries()) {
        const [r] = await sequence.controlledEvaluate([[t, { generateNext: { logits: true } }]]);
        rows.push(logitRow(r, i, vocabSize));
      }
      return rows;
    } finally {
      await ctx.dispose();
    }
  }

  async close(): Promise<void> {
    await this.model.dispose();
  }
}

export async function closeOracle(): Promise<void> {
  if (llamaPromise) await (await llamaPromise).dispose();
  llamaPromise = null;
}
