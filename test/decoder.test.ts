// The decoder (model/decoder.ts) replays one recorded step per 64 positions instead of building
// a graph per token. Its logits must be the step-by-step forward's, bit for bit, and — in the
// llama.cpp mode, on a model whose context spans several plans — live llama.cpp's decoding the
// same tokens one at a time.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LlamaModel, type NumericMode } from '../src/model/llama';
import { Decoder } from '../src/model/decoder';
import { generate } from '../src/model/generate';
import { Tensor } from '../src/tensor';
import { CpuBackend } from '../src/backend/cpu';
import { synthesizeModel } from '../src/model/synth';
import type { LlamaShape } from '../src/model/shapes';
import { BOS_ID } from '../src/model/synth-vocab';
import { modelPath } from './helpers/references';
import { LlamaCppOracle, closeOracle } from './helpers/llama-oracle';

function tokenIds(count: number, nVocab: number): number[] {
  const ids = [BOS_ID];
  let state = 777;
  while (ids.length < count) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    ids.push(state % nVocab);
  }
  return ids;
}

/** Positions whose logits are not identical (as bits), with the largest difference of the first few. */
function differences(ours: Float32Array[], theirs: Float32Array[]): string[] {
  const out: string[] = [];
  theirs.forEach((row, p) => {
    let n = 0;
    let max = 0;
    row.forEach((v, i) => {
      if (!Object.is(ours[p][i], v)) {
        n++;
        max = Math.max(max, Math.abs(ours[p][i] - v));
      }
    });
    if (n) out.push(`position ${p}: ${n} logits differ, by up to ${max}`);
  });
  return out;
}

async function decoded(model: LlamaModel, tokens: readonly number[], mode: NumericMode): Promise<{ logits: Float32Array[]; recordings: number }> {
  const decoder = new Decoder(model, model.newCache(), mode);
  const logits: Float32Array[] = [];
  for (const t of tokens) logits.push((await decoder.step(t)).slice());
  decoder.dispose();
  return { logits, recordings: decoder.recordings };
}

describe('Decoder: replayed decode steps', function () {
  after(closeOracle);

  for (const [suffix, mode] of [['q4_k_m', 'llama.cpp'], ['f16', 'llama.cpp'], ['q4_0', 'float'], ['q6_k', 'float']] as const) {
    it(`${suffix}, ${mode} mode: the logits of model.forward fed one token at a time through the cache, bit for bit`, async () => {
      const model = await LlamaModel.load(modelPath(suffix));
      const tokens = model.tokenizer.encode('The default value is set by the caller of this function, unless the option says otherwise.');
      const cache = model.newCache();
      const stepwise: Float32Array[] = [];
      for (const t of tokens) {
        const logits = await model.runWithHooks([t], {}, { mode, cache, logits: 'last' });
        stepwise.push((await logits.data()) as Float32Array);
      }
      const ours = await decoded(model, tokens, mode);
      assert.deepEqual(differences(ours.logits, stepwise).slice(0, 5), []);
      assert.equal(ours.recordings, 1, `one plan for ${tokens.length} positions`);
    });
  }

  it('on the WASM fast path a replay reruns only kernels that compute in JavaScript, the rest as their recorded WASM calls, allocating nothing', async () => {
    for (const mode of ['llama.cpp', 'float'] as const) {
      const model = await LlamaModel.load(modelPath('q8_0'), { backend: new CpuBackend({ kernels: 'wasm', threads: 2 }) });
      const backend = model.backend as CpuBackend;
      const rerun: string[] = [];
      const runInto = backend.runInto.bind(backend);
      backend.runInto = (kernel, out) => {
        rerun.push(kernel.kind === 'op' ? kernel.args.op : 'elementwise');
        return runInto(kernel, out);
      };
      const decoder = new Decoder(model, model.newCache(), mode);
      const held: number[] = [];
      for (const token of [1, 5, 6, 7]) {
        rerun.length = 0;
        await decoder.step(token);
        held.push(backend.wasm!.heap.held);
      }
      // the first replay prepares (keeping each kernel's scratch); later ones allocate nothing
      assert.deepEqual(held.slice(2), [held[1], held[1]], `${mode}: heap bytes after each step ${held}`);
      decoder.dispose();
      assert.ok(backend.wasm!.heap.held < held[0], `${mode}: disposing frees the plan's buffers and scratch`);
      const counts = Object.fromEntries([...new Set(rerun)].map((op) => [op, rerun.filter((o) => o === op).length]));
      // the embedding lookup and RoPE's angles are computed in TypeScript from the token and position,
      // and the float mode's softmax is the TypeScript kernel
      const blocks = model.hparams.blockCount;
      assert.deepEqual(counts, { getRows: 1, rope: 2 * blocks, ...(mode === 'float' ? { softmax: blocks } : {}) }, mode);
    }
  });

  it('generate with hooks runs them at every step (the prompt and each token), and with none gives the same tokens as without', async () => {
    const model = await LlamaModel.load(modelPath('q8_0'));
    const prompt = 'The default value is';
    const plain = await generate(model, prompt, { maxTokens: 12, temperature: 0, mode: 'llama.cpp', stopAtEos: false });
    const noHooks = await generate(model, prompt, { maxTokens: 12, temperature: 0, mode: 'llama.cpp', stopAtEos: false, hooks: {} });
    assert.deepEqual(noHooks.tokens, plain.tokens);
    // a large bonus on one token's logit at every step: every generated token is that one
    const FORCED = 42;
    let calls = 0;
    const forced = await generate(model, prompt, {
      maxTokens: 5,
      temperature: 0,
      stopAtEos: false,
      hooks: {
        hook_logits: (logits) => {
          calls++;
          const bonus = new Float32Array(logits.shape[1]);
          bonus[FORCED] = 1e4;
          return logits.add(Tensor.from(bonus, [1, bonus.length], { backend: logits.backend }));
        },
      },
    });
    assert.deepEqual(forced.tokens, [FORCED, FORCED, FORCED, FORCED, FORCED]);
    assert.equal(calls, 5, 'the prompt pass and four decode steps');
  });

  describe('llama.cpp mode, 300 positions of a 1024-position context (five plans, the cache growing at 256), against live llama.cpp decoding one token at a time', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-decoder-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const shape: LlamaShape = { nVocab: 2051, nEmbd: 96, nHead: 4, nHeadKV: 2, nFF: 224, nLayer: 2, nCtx: 1024, ropeFreqBase: 10000, rmsNormEps: 1e-5, tiedOutput: false };
    for (const type of ['F32', 'Q8_0']) {
      it(type, async function () {
        this.timeout(300_000);
        const file = path.join(dir, `decoder-${type}.gguf`);
        synthesizeModel(file, shape, { type, seed: 9 });
        const tokens = tokenIds(300, shape.nVocab);
        const oracle = await LlamaCppOracle.open(file);
        const theirs = await oracle.stepLogits(tokens, shape.nVocab, shape.nCtx);
        await oracle.close();
        const ours = await decoded(await LlamaModel.load(file), tokens, 'llama.cpp');
        assert.deepEqual(differences(ours.logits, theirs).slice(0, 5), []);
        assert.equal(ours.recordings, 5, 'a plan for each 64 positions');
      });
    }
  });
});
