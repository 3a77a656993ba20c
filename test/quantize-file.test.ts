import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openGGUF } from '../src/gguf';
import { modelPath } from './helpers/references';
import { runCli } from './helpers/cli';

// Each type with a pure llama-quantize file in ../shared/models (Q8_0, Q6_K, F16 and BF16 files are pure
// by default). Our quantizer must reproduce llama.cpp's whole file, every byte.
const PURE_FILES: Record<string, string> = {
  Q4_0: 'q4_0-pure',
  Q4_1: 'q4_1-pure',
  Q5_0: 'q5_0-pure',
  Q5_1: 'q5_1-pure',
  Q8_0: 'q8_0',
  Q2_K: 'q2_k-pure',
  Q3_K: 'q3_k-pure',
  Q4_K: 'q4_k-pure',
  Q5_K: 'q5_k-pure',
  Q6_K: 'q6_k',
  F16: 'f16',
  BF16: 'bf16',
};

describe('llamascope quantize reproduces llama-quantize --pure files byte for byte', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-quantize-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [type, reference] of Object.entries(PURE_FILES)) {
    it(`F32 -> ${type} equals manllama-6m-${reference}.gguf`, () => {
      const out = path.join(dir, `${type}.gguf`);
      const r = runCli('quantize', modelPath('f32'), out, type, '--quiet');
      assert.equal(r.status, 0, r.stderr);
      const ours = fs.readFileSync(out);
      const theirs = fs.readFileSync(modelPath(reference));
      if (ours.equals(theirs)) return;
      // Say where: which tensor, which block, which bytes.
      const a = openGGUF(out), b = openGGUF(modelPath(reference));
      for (const t of b.tensors) {
        const x = a.readTensorBytes(t.name), y = b.readTensorBytes(t);
        const i = x.findIndex((v, k) => v !== y[k]);
        if (i >= 0) {
          const block = Math.floor(i / t.type.typeSize);
          assert.fail(`${t.name} (${t.type.name}) differs first in block ${block}, byte ${i % t.type.typeSize}: ours ${x[i]}, llama.cpp ${y[i]}`);
        }
      }
      assert.fail(`tensor bytes agree but the files differ (sizes ${ours.length} vs ${theirs.length}): header or metadata`);
    });
  }

  it('keeps 1-D tensors F32 and refuses an unknown type with the list of choices', () => {
    const out = path.join(dir, 'Q8_0.gguf');
    if (!fs.existsSync(out)) runCli('quantize', modelPath('f32'), out, 'Q8_0', '--quiet');
    const f = openGGUF(out);
    for (const t of f.tensors) assert.equal(t.type.name, t.shape.length === 1 ? 'F32' : 'Q8_0', t.name);
    const r = runCli('quantize', modelPath('f32'), path.join(dir, 'x.gguf'), 'Q7_X');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot quantize to 'Q7_X'; choose one of .*Q4_0/);
  });
});
