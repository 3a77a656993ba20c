// Our forward in llama.cpp mode against live llama.cpp (node-llama-cpp, flash attention off) on
// random-weight models of shapes the shared manllama-6m model does not have: multi-head attention
// (n_head_kv = n_head), a tied output head, RoPE base 500000, linear RoPE scaling, a vocabulary of
// 2051 and n_embd 96 (head dimension 24; 96 and the FFN width 224 are not whole 64-value steps
// of ggml's f32 dot product, so its leftover loop runs). F32, Q8_0 and Q4_0 weights; every logit
// at every position must equal llama.cpp's bit for bit.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LlamaModel } from '../src/model/llama';
import { synthesizeModel } from '../src/model/synth';
import type { LlamaShape } from '../src/model/shapes';
import { BOS_ID } from '../src/model/synth-vocab';
import { LlamaCppOracle, closeOracle } from './helpers/llama-oracle';

const ODD: LlamaShape = {
  nVocab: 2051, nEmbd: 96, nHead: 4, nHeadKV: 4, nFF: 224, nLayer: 2, nCtx: 256,
  ropeFreqBase: 500000, rmsNormEps: 1e-5, tiedOutput: true,
};

const CASES: { title: string; shape: LlamaShape; types: string[] }[] = [
  { title: 'multi-head, tied output, rope base 500000, vocabulary 2051, n_embd 96', shape: ODD, types: ['F32', 'Q8_0', 'Q4_0'] },
  {
    title: 'linear rope scaling 2.5 (grouped-query, output head, base 10000)',
    shape: { ...ODD, nHeadKV: 2, tiedOutput: false, ropeFreqBase: 10000, ropeLinearScaling: 2.5 },
    types: ['F32', 'Q8_0', 'Q4_0'],
  },
];

/** Enough positions for RoPE angles and attention over many keys; random ids over the whole vocabulary, the last one included. */
const POSITIONS = 160;

function tokenIds(nVocab: number): number[] {
  const ids = [BOS_ID, nVocab - 1];
  let state = 12345;
  while (ids.length < POSITIONS) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    ids.push(state % nVocab);
  }
  return ids;
}

describe('forward on synthesized shapes equals live llama.cpp bit for bit (llama.cpp mode)', function () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-forward-shapes-'));
  after(async () => {
    await closeOracle();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const { title, shape, types } of CASES) {
    describe(title, () => {
      for (const type of types) {
        it(type, async () => {
          const file = path.join(dir, `${title.replace(/\W+/g, '-')}-${type}.gguf`);
          synthesizeModel(file, shape, { type, seed: 5 });
          const tokens = tokenIds(shape.nVocab);
          const oracle = await LlamaCppOracle.open(file);
          const theirs = await oracle.logits(tokens, shape.nVocab, shape.nCtx);
          await oracle.close();
          const model = await LlamaModel.load(file);
          const ours = (await model.forward(tokens, { mode: 'llama.cpp' }).data()) as Float32Array;

          const differing: { position: number; logits: number; maxAbsDiff: number }[] = [];
          theirs.forEach((row, position) => {
            let logits = 0;
            let maxAbsDiff = 0;
            row.forEach((v, id) => {
              const mine = ours[position * shape.nVocab + id];
              if (!Object.is(mine, v)) {
                logits++;
                maxAbsDiff = Math.max(maxAbsDiff, Math.abs(mine - v));
              }
            });
            if (logits) differing.push({ position, logits, maxAbsDiff });
          });
          assert.deepEqual(differing.slice(0, 5), [], `${differing.length} of ${tokens.length} positions differ from llama.cpp`);
        });
      }
    });
  }
});
