import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { LlamaModel } from '../src/model/llama';
import { readEvalCallback } from '../src/inspect/eval-callback';
import { compareWithDump } from '../src/inspect/compare';
import { Tensor } from '../src/tensor';
import { REFERENCES_DIR, modelPath } from './helpers/references';
import { runCli } from './helpers/cli';

describe('compare with a llama-eval-callback dump (seed 001)', () => {
  const dumpPath = path.join(REFERENCES_DIR, 'eval-callback-f32.txt');

  it('a RoPE pairing bug (NEOX halves instead of adjacent pairs) is located at the first rope of block 0', async () => {
    const model = await LlamaModel.load(modelPath('f32'));
    const dump = readEvalCallback(dumpPath);
    const tokens = model.tokenizer.encode('Once upon a time');
    const positions = Tensor.from(tokens.map((_, i) => i), [tokens.length], { dtype: 'i32', backend: model.backend });
    let q: Tensor | null = null;
    const r = await compareWithDump(model, dump, tokens, {
      mode: 'llama.cpp',
      hooks: {
        'blocks.0.attn.hook_q': (t) => {
          q = t;
        },
        'blocks.0.attn.hook_rot_q': () => q!.rope(positions, { mode: 'neox', freqBase: 10000 }),
      },
    });
    assert.ok(r.firstDivergent);
    assert.equal(r.firstDivergent.name, 'Qcur-0');
    assert.equal(dump.nodes[r.firstDivergent.position].op, 'ROPE');
    assert.equal(r.hookOf.get(r.firstDivergent.position), 'blocks.0.attn.hook_rot_q');
  });

  it('llamascope compare aligns the nodes with hook points and reports per-node errors as JSON', () => {
    const r = runCli('compare', modelPath('f32'), '--eval-callback', dumpPath, '--prompt', 'Once upon a time', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(out.nodes.length >= 100, `${out.nodes.length} nodes aligned`);
    const first = out.nodes.find((n: { node: string }) => n.node === 'inp_embd');
    assert.ok(first.matches && first.hook === 'hook_embed', 'the embedding lookup matches llama.cpp');
    assert.ok(out.nodes.some((n: { node: string; hook: string }) => n.node === 'kq_soft_max_ext-3' && n.hook === 'blocks.3.attn.hook_pattern'));
  });
});
