import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openGGUF } from '../src/gguf';
import { synthesizeModel } from '../src/model/synth';
import { planTensorTypes } from '../src/model/file-types';
import type { LlamaShape } from '../src/model/shapes';
import { FIRST_NORMAL_ID } from '../src/model/synth-vocab';
import { modelPath, REFERENCES_DIR } from './helpers/references';
import { runCli } from './helpers/cli';

/** What these tests use of node-llama-cpp (ESM-only, loaded with import()), token ids as plain numbers. */
interface LlamaCpp {
  loadModel(options: { modelPath: string; checkTensors?: boolean }): Promise<LlamaCppModel>;
  dispose(): Promise<void>;
}
interface LlamaCppModel {
  tokens: { bos: number | null };
  tokenize(text: string): number[];
  detokenize(tokens: readonly number[]): string;
  createContext(options: { contextSize: number; threads: number }): Promise<LlamaCppContext>;
  dispose(): Promise<void>;
}
interface LlamaCppContext {
  getSequence(): LlamaCppSequence;
  dispose(): Promise<void>;
}
interface LlamaCppSequence {
  clearHistory(): Promise<void>;
  controlledEvaluate(input: (number | [number, { generateNext: { logits: true } }])[]): Promise<({ next?: { logits?: Map<number, number> } } | undefined)[]>;
}

const TEXT = 'The quick brown fox jumps over the lazy dog, and then it reads the manual page again.';

/** Small shapes, each with one of the features the forward must handle like llama.cpp does. */
const BASE: LlamaShape = {
  nVocab: 2051, nEmbd: 96, nHead: 4, nHeadKV: 2, nFF: 192, nLayer: 2, nCtx: 128,
  ropeFreqBase: 10000, rmsNormEps: 1e-5, tiedOutput: false,
};
const CASES: { title: string; shape: LlamaShape; type: string }[] = [
  { title: 'vocabulary 2051 (not a multiple of 32), n_embd 96, Q8_0', shape: BASE, type: 'Q8_0' },
  { title: 'vocabulary 2051, n_embd 96, Q4_0', shape: BASE, type: 'Q4_0' },
  { title: 'multi-head attention (n_head_kv = n_head)', shape: { ...BASE, nHeadKV: 4 }, type: 'Q8_0' },
  { title: 'tied output (no output.weight)', shape: { ...BASE, tiedOutput: true }, type: 'Q4_0' },
  { title: 'rope freq base 500000', shape: { ...BASE, ropeFreqBase: 500000 }, type: 'Q8_0' },
  { title: 'K-quant mixture Q4_K_M, n_embd 256', shape: { ...BASE, nEmbd: 256, nFF: 512, nLayer: 3 }, type: 'Q4_K_M' },
];

function tensorTypesReference(file: string): Record<string, string> {
  const all = JSON.parse(fs.readFileSync(path.join(REFERENCES_DIR, 'tensor-types.json'), 'utf8'));
  return all[file].tensor_types;
}

describe('synth: random-weight models', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-synth-'));
  let llama: LlamaCpp;

  before(async () => {
    const nlc = await import('node-llama-cpp');
    const options = { gpu: false, build: 'never', usePrebuiltBinaries: true, progressLogs: false, logLevel: nlc.LlamaLogLevel.disabled };
    llama = (await nlc.getLlama(options as never)) as unknown as LlamaCpp;
  });
  after(async () => {
    await llama?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** llama.cpp's tokens for TEXT and its next-token logits after BOS + each prompt. */
  async function runWithLlamaCpp(file: string, prompts: string[]) {
    const model = await llama.loadModel({ modelPath: file, checkTensors: true });
    const context = await model.createContext({ contextSize: 64, threads: 2 });
    try {
      const logits: Float32Array[] = [];
      const sequence = context.getSequence();
      for (const prompt of prompts) {
        await sequence.clearHistory();
        const input = [model.tokens.bos!, ...model.tokenize(prompt)];
        const out = await sequence.controlledEvaluate(input.map((t, i) => (i === input.length - 1 ? [t, { generateNext: { logits: true } }] : t)));
        const map = out[input.length - 1]!.next!.logits!;
        logits.push(Float32Array.from({ length: map.size }, (_, id) => map.get(id)!));
      }
      const tokens = model.tokenize(TEXT);
      return { tokens, text: model.detokenize(tokens), logits };
    } finally {
      await context.dispose();
      await model.dispose();
    }
  }

  describe('llama.cpp loads and runs them', () => {
    CASES.forEach(({ title, shape, type }, i) => {
      it(title, async () => {
        const file = path.join(dir, `case${i}.gguf`);
        const result = synthesizeModel(file, shape, { type, seed: 11 });

        // Our reader: valid, and the file holds what the shape says.
        const f = openGGUF(file);
        try {
          assert.equal(f.get('llama.embedding_length'), shape.nEmbd);
          assert.equal(f.get('llama.attention.head_count_kv'), shape.nHeadKV);
          assert.equal(f.get('llama.rope.freq_base'), shape.ropeFreqBase);
          assert.equal((f.get('tokenizer.ggml.tokens') as string[]).length, shape.nVocab);
          assert.equal(f.tensors.length, 2 + (shape.tiedOutput ? 0 : 1) + 9 * shape.nLayer);
          assert.equal(f.tensors.some((t) => t.name === 'output.weight'), !shape.tiedOutput);
          assert.deepEqual(f.tensor('token_embd.weight').shape, [shape.nEmbd, shape.nVocab]);
          assert.deepEqual(f.tensor('blk.0.attn_k.weight').shape, [shape.nEmbd, (shape.nEmbd / shape.nHead) * shape.nHeadKV]);
          assert.deepEqual(f.tensor('blk.0.ffn_down.weight').shape, [shape.nFF, shape.nEmbd]);
          assert.deepEqual(f.tensors.map((t) => [t.name, t.type.name]), result.tensors.map((t) => [t.name, t.type]));
        } finally {
          f.close();
        }

        // llama.cpp: loads it with tensor data validation, tokenizes ordinary text into normal
        // pieces and back, and computes finite logits over the whole vocabulary that depend on
        // the context.
        const run = await runWithLlamaCpp(file, ['Hello world', 'Hello there, world']);
        assert.equal(run.text, TEXT);
        assert.ok(run.tokens.every((t) => t >= FIRST_NORMAL_ID), `byte fallbacks in ${run.tokens}`);
        assert.ok(run.tokens.length < TEXT.length / 2, `${run.tokens.length} tokens for ${TEXT.length} characters: pieces do not merge`);
        for (const logits of run.logits) {
          assert.equal(logits.length, shape.nVocab);
          assert.ok(logits.every(Number.isFinite), 'non-finite logits');
          const mean = logits.reduce((a, b) => a + b, 0) / logits.length;
          const std = Math.sqrt(logits.reduce((a, b) => a + (b - mean) ** 2, 0) / logits.length);
          assert.ok(std > 0.3 && std < 10, `logit spread ${std}`);
        }
        const moved = run.logits[0].reduce((m, x, j) => Math.max(m, Math.abs(x - run.logits[1][j])), 0);
        assert.ok(moved > 0.1, 'logits do not depend on the context');
      });
    });
  });

  it('the same seed gives the same model in every type; rope base and seed change it', async () => {
    const shape = { ...BASE, nLayer: 3 };
    const f32 = path.join(dir, 'same-f32.gguf');
    const q8 = path.join(dir, 'same-q8.gguf');
    const otherBase = path.join(dir, 'same-base.gguf');
    const otherSeed = path.join(dir, 'same-seed.gguf');
    synthesizeModel(f32, shape, { type: 'F32', seed: 3 });
    synthesizeModel(q8, shape, { type: 'Q8_0', seed: 3 });
    synthesizeModel(otherBase, { ...shape, ropeFreqBase: 500000 }, { type: 'F32', seed: 3 });
    synthesizeModel(otherSeed, shape, { type: 'F32', seed: 4 });
    const prompt = ['the file system keeps the data in blocks and the kernel reads them'];
    const [a, b, c, d] = await Promise.all([f32, q8, otherBase, otherSeed].map(async (f) => (await runWithLlamaCpp(f, prompt)).logits[0]));
    const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, j) => Math.max(m, Math.abs(v - y[j])), 0);
    assert.ok(maxDiff(a, b) < 0.1, `F32 and Q8_0 of one seed differ by ${maxDiff(a, b)}`);
    assert.ok(maxDiff(a, c) > 0.1, `rope base 500000 changed nothing (${maxDiff(a, c)})`);
    assert.ok(maxDiff(a, d) > 1, `another seed changed little (${maxDiff(a, d)})`);
  });

  it("Q4_K_M and Q5_K_M choose each tensor's type as llama-quantize did for manllama-6m", () => {
    // The plan, over the tensors of llama.cpp's own file.
    const f32 = openGGUF(modelPath('f32'));
    try {
      for (const [mixture, reference] of [['Q4_K_M', 'manllama-6m-q4_k_m.gguf'], ['Q5_K_M', 'manllama-6m-q5_k_m.gguf']]) {
        const plan = planTensorTypes(f32.tensors, mixture);
        const expected = tensorTypesReference(reference);
        assert.deepEqual(Object.fromEntries([...plan].map(([name, t]) => [name, t.name])), expected, mixture);
      }
    } finally {
      f32.close();
    }
    // The synthesized file: same types, in the same order as llama-quantize's file.
    const out = path.join(dir, 'manllama-q4_k_m.gguf');
    const r = runCli('synth', out, '--like', 'manllama', '--type', 'Q4_K_M', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const ours = openGGUF(out);
    try {
      const expected = tensorTypesReference('manllama-6m-q4_k_m.gguf');
      assert.deepEqual(ours.tensors.map((t) => [t.name, t.type.name]), Object.entries(expected));
      assert.equal(ours.get('general.file_type'), 15);
    } finally {
      ours.close();
    }
  });

  it('writes tensor by tensor: memory stays far below the float32 model', () => {
    // ~78M weights (312 MB as float32, 44 MB in Q4_0). Holding the float model would add 312 MB;
    // the control run does exactly that, proving the measurement sees such a rise. A third of it
    // leaves room for one tensor's bytes (9 MB here) and garbage the collector has not reclaimed.
    const shape: LlamaShape = { ...BASE, nVocab: 16000, nEmbd: 1024, nHead: 16, nHeadKV: 4, nFF: 2816, nLayer: 4 };
    const child = (mode: string) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'helpers/synth-memory-child.ts'), mode, path.join(dir, 'memory.gguf'), JSON.stringify(shape)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const m = JSON.parse(r.stdout) as { startRss: number; peakRss: number; f32Bytes: number };
      return { growth: m.peakRss - m.startRss, f32Bytes: m.f32Bytes };
    };
    const control = child('control');
    assert.ok(control.growth > 0.9 * control.f32Bytes, `control: RSS grew ${control.growth} bytes, expected about ${control.f32Bytes}`);
    const synth = child('synth');
    assert.ok(synth.growth < synth.f32Bytes / 3, `synth: RSS grew ${synth.growth} bytes for a ${synth.f32Bytes}-byte float32 model`);
    assert.equal(openGGUF(path.join(dir, 'memory.gguf')).tensors.length, 3 + 9 * shape.nLayer);
  });
});
