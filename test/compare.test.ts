import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LlamaModel } from '../src/model/llama';
import { synthesizeModel } from '../src/model/synth';
import { readEvalCallback } from '../src/inspect/eval-callback';
import { compareWithDump } from '../src/inspect/compare';
import { captureTrace, readTrace, traceTable } from '../src/inspect/trace';
import { compareRuns, compareTraces } from '../src/inspect/trace-compare';
import { hookPoints } from '../src/model/hooks';
import { readHParams } from '../src/model/hparams';
import { openGGUF, writeGGUF } from '../src/gguf';
import { writeArrow } from '../src/notebook/arrow';
import { Tensor } from '../src/tensor';
import { useGgmlSimd } from '../src/backend/cpu/ops/ggml-float';
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

describe('compare aligns the node names of older and newer llama.cpp builds (hooks.ts LLAMA_CPP_BUILDS)', () => {
  const aligned = (dump: ReturnType<typeof readEvalCallback>, hookOf: Map<number, string>) =>
    dump.nodes.map((n) => `${n.name} ${n.op} -> ${hookOf.get(n.position) ?? '-'}`);

  it('newer names in the newer format (fixtures/eval-callback/newer-names.txt): kq_soft_max, kqv_out = heads, attn_out, ffn_swiglu', async () => {
    // The fixture's shapes are those of this one-block model; its values are a formula (see the
    // fixture's README), so only the alignment is checked here.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-compare-'));
    try {
      const file = path.join(dir, 'tiny.gguf');
      synthesizeModel(file, { nVocab: 259, nEmbd: 8, nHead: 2, nHeadKV: 1, nFF: 12, nLayer: 1, nCtx: 16, ropeFreqBase: 10000, rmsNormEps: 1e-5, tiedOutput: false }, { type: 'F32' });
      const dump = readEvalCallback(path.join(__dirname, 'fixtures/eval-callback/newer-names.txt'));
      assert.equal(dump.sumCovers, 'whole-tensor', dump.sumEvidence);
      const r = await compareWithDump(await LlamaModel.load(file), dump, dump.promptTokens!, { mode: 'llama.cpp' });
      assert.deepEqual(aligned(dump, r.hookOf), [
        'inp_embd GET_ROWS -> hook_embed',
        'norm-0 RMS_NORM -> -',
        'attn_norm-0 MUL -> blocks.0.ln1.hook_normalized',
        'Qcur-0 MUL_MAT -> blocks.0.attn.hook_q',
        'Kcur-0 MUL_MAT -> blocks.0.attn.hook_k',
        'Vcur-0 MUL_MAT -> blocks.0.attn.hook_v',
        'Qcur-0 RESHAPE -> blocks.0.attn.hook_q',
        'Kcur-0 RESHAPE -> blocks.0.attn.hook_k',
        'Vcur-0 RESHAPE -> blocks.0.attn.hook_v',
        'Qcur-0 ROPE -> blocks.0.attn.hook_rot_q',
        'Kcur-0 ROPE -> blocks.0.attn.hook_rot_k',
        'kq-0 MUL_MAT -> blocks.0.attn.hook_attn_scores',
        'kq_soft_max-0 SOFT_MAX -> blocks.0.attn.hook_pattern',
        'kqv-0 MUL_MAT -> -',
        'kqv_out-0 CONT -> blocks.0.attn.hook_z',
        'attn_out-0 MUL_MAT -> blocks.0.hook_attn_out',
        'ffn_inp-0 ADD -> blocks.0.hook_resid_mid',
        'norm-0 RMS_NORM -> -',
        'ffn_norm-0 MUL -> blocks.0.ln2.hook_normalized',
        'ffn_up-0 MUL_MAT -> blocks.0.mlp.hook_up',
        'ffn_gate-0 MUL_MAT -> blocks.0.mlp.hook_gate',
        'ffn_swiglu-0 SWIGLU -> blocks.0.mlp.hook_post',
        'ffn_out-0 MUL_MAT -> blocks.0.hook_mlp_out',
        'l_out-0 ADD -> blocks.0.hook_resid_post',
        'norm RMS_NORM -> -',
        'result_norm MUL -> ln_final.hook_normalized',
        'result_output MUL_MAT -> hook_logits',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("older names (the references' dump): kqv_merged_cont = heads, kqv_out = output projection, ffn_gate_par; llama.cpp's values match there", async () => {
    const model = await LlamaModel.load(modelPath('f32'));
    const dump = readEvalCallback(path.join(REFERENCES_DIR, 'eval-callback-f32.txt'));
    const r = await compareWithDump(model, dump, model.tokenizer.encode('Once upon a time'), { mode: 'llama.cpp' });
    const block0 = new Set(['kq_soft_max_ext-0', 'kqv_merged_cont-0', 'kqv_out-0', 'ffn_silu-0', 'ffn_gate_par-0']);
    assert.deepEqual(aligned(dump, r.hookOf).filter((line) => block0.has(line.split(' ')[0])), [
      'kq_soft_max_ext-0 SOFT_MAX -> blocks.0.attn.hook_pattern',
      'kqv_merged_cont-0 CONT -> blocks.0.attn.hook_z',
      'kqv_out-0 MUL_MAT -> blocks.0.hook_attn_out',
      'ffn_silu-0 SILU -> -',
      'ffn_gate_par-0 MUL -> blocks.0.mlp.hook_post',
    ]);
    const mismatched = r.comparisons.filter((c) => block0.has(c.name) && !c.matches).map((c) => c.name);
    assert.deepEqual(mismatched, [], 'nodes whose values differ from the hook they were aligned with');
  });

  it("the references' Q8_0 dump was made by an AVX2 build: with useGgmlSimd('avx2') every node matches; with AVX-512 lanes one does not", async function () {
    this.timeout(120_000);
    const model = await LlamaModel.load(modelPath('q8_0'));
    const dump = readEvalCallback(path.join(REFERENCES_DIR, 'eval-callback-q8_0.txt'));
    const tokens = model.tokenizer.encode('Once upon a time');
    const previous = useGgmlSimd('avx2');
    try {
      const avx2 = await compareWithDump(model, dump, tokens, { mode: 'llama.cpp' });
      assert.equal(avx2.firstDivergent, undefined, `AVX2 lanes: first divergence at ${avx2.firstDivergent?.name}`);
      assert.ok(avx2.comparisons.length > 100);
      useGgmlSimd('avx512');
      const avx512 = await compareWithDump(model, dump, tokens, { mode: 'llama.cpp' });
      assert.notEqual(avx512.firstDivergent, undefined, 'AVX-512 lanes round sums differently from the build that made the dump');
    } finally {
      useGgmlSimd(previous);
    }
  });
});

describe('compare two of our traces hook by hook (two quant types, backends, modes or trace files)', function () {
  const prompt = 'Once upon a time';
  let dir: string;
  let patched: string;
  // The hook that first multiplies by blk.2.ffn_down.weight: the one holding llama.cpp's ffn_out-2
  // node, the down projection's MUL_MAT (hooks.ts alias table, read from llama.cpp's graph code).
  let downstream: string;
  let hookNames: string[];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-trace-compare-'));
    // The F32 model with one tensor changed: blk.2.ffn_down.weight doubled; everything else copied byte for byte.
    const f32 = openGGUF(modelPath('f32'));
    patched = path.join(dir, 'ffn-down-2-doubled.gguf');
    writeGGUF(patched, {
      metadata: f32.metadata,
      tensors: f32.tensors.map((t) => ({
        name: t.name,
        type: t.type,
        shape: t.shape,
        data: () => (t.name === 'blk.2.ffn_down.weight' ? new Uint8Array(f32.readRows(t).map((v) => 2 * v).buffer) : f32.readTensorBytes(t)),
      })),
    });
    const points = hookPoints(readHParams(f32).blockCount);
    f32.close();
    hookNames = points.map((h) => h.name);
    downstream = points.find((h) => h.llamaCppNodes.some((n) => n.name === 'ffn_out-2' && n.op === 'MUL_MAT'))!.name;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a trace against itself, in memory and read back from its file: zero error at every hook point, no divergence', async () => {
    const model = await LlamaModel.load(modelPath('f32'));
    const tokens = model.tokenizer.encode(prompt);
    const { cache } = await model.runWithCache(tokens);
    const file = path.join(dir, 'f32.arrow');
    writeArrow(file, traceTable(await captureTrace(model, tokens)));
    assert.deepEqual(readTrace(file).tokens, tokens);
    const r = await compareTraces(cache, file, { tolerance: 0 });
    assert.deepEqual(r.comparisons.map((c) => c.name), hookNames);
    for (const c of r.comparisons) assert.deepEqual([c.name, c.relativeError, c.maxAbsError, c.matches], [c.name, 0, 0, true]);
    assert.equal(r.firstDivergent, undefined);
    assert.deepEqual(r.onlyIn, [[], []]);
  });

  it('blk.2.ffn_down doubled in a copy of the F32 file: the first divergence is the down projection of block 2, everything before it identical', async () => {
    assert.equal(downstream, 'blocks.2.hook_mlp_out');
    const r = await compareRuns(modelPath('f32'), patched, prompt);
    assert.equal(r.firstDivergent?.name, downstream);
    const at = r.comparisons.indexOf(r.firstDivergent!);
    for (const c of r.comparisons.slice(0, at)) assert.equal(c.maxAbsError, 0, `${c.name} differs, though it comes before the patched weight`);
    // Doubling the weight doubles the projection: b = 2a at every value, so ‖b − a‖ / ‖a‖ = 1.
    assert.ok(Math.abs(r.firstDivergent!.relativeError - 1) < 1e-6, `relative error ${r.firstDivergent!.relativeError}`);
    const e = r.firstDivergent!.firstDivergence!;
    assert.ok(Math.abs(e.actual - 2 * e.expected) <= 1e-6 * Math.abs(e.expected), `${e.actual} is not twice ${e.expected}`);
    assert.ok(!r.comparisons.find((c) => c.name === 'hook_logits')!.matches, 'the change reaches the logits');
  });

  it('F32 against Q8_0: a small nonzero error at every hook, no divergence at 10 %; at the default tolerance the first is the Q8_0 embedding lookup', async () => {
    const q8 = openGGUF(modelPath('q8_0'));
    assert.equal(q8.tensor('token_embd.weight').type.name, 'Q8_0', 'premise: the embedding table itself is Q8_0');
    q8.close();
    const [f32Trace, q8Trace] = await Promise.all(['f32', 'q8_0'].map(async (suffix) => {
      const model = await LlamaModel.load(modelPath(suffix));
      return captureTrace(model, model.tokenizer.encode(prompt));
    }));
    // Q8_0 rounds each weight to a step of 1/127 of its block's largest: a relative error of a few
    // tenths of a percent, and well under 2 %, wherever the weights act.
    const loose = await compareTraces(f32Trace, q8Trace, { tolerance: 0.1 });
    assert.deepEqual(loose.comparisons.map((c) => c.name), hookNames);
    for (const c of loose.comparisons) assert.ok(c.relativeError > 0 && c.relativeError < 0.02, `${c.name}: relative error ${c.relativeError}`);
    assert.equal(loose.firstDivergent, undefined, `${loose.firstDivergent?.name} diverges`);
    const strict = await compareTraces(f32Trace, q8Trace);
    assert.equal(strict.firstDivergent?.name, 'hook_embed');
  });

  it('llamascope compare FILE --against OTHER: models and trace files, a table or JSON, exit 0; a usage error exits 2', () => {
    const table = runCli('compare', modelPath('f32'), '--against', patched, '--prompt', prompt);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`\\b${downstream.replace(/\./g, '\\.')}\\s+\\[7, 256\\]\\s+\\S+\\s+\\S+\\s+DIVERGES`));
    assert.match(table.stdout, new RegExp(`first divergence: hook #\\d+ ${downstream.replace(/\./g, '\\.')},`));

    const traced = path.join(dir, 'cli-f32.arrow');
    const t = runCli('trace', modelPath('f32'), '--prompt', prompt, '--out', traced);
    assert.equal(t.status, 0, t.stderr);
    // A stored trace against a model run: the trace's tokens are the prompt.
    const json = runCli('compare', traced, '--against', patched, '--json');
    assert.equal(json.status, 0, json.stderr);
    const out = JSON.parse(json.stdout);
    assert.equal(out.firstDivergence.hook, downstream);
    assert.deepEqual(out.hooks.map((h: { hook: string }) => h.hook), hookNames);

    const usage = runCli('compare', modelPath('f32'), '--prompt', prompt);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--eval-callback DUMP\.txt .* or --against OTHER/);
  });
});
