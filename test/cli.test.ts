import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dequantReferences, modelPath } from './helpers/references';
import { runCli } from './helpers/cli';
import { tinyFile, tensorInfo, entryFields, setU64 } from './helpers/tiny-gguf';
import { openGGUF, encodeGGUF, meta } from '../src/gguf';
import { f16ToF32 } from '../src/quant/half';

describe('CLI', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-cli-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('inspect --json: metadata, tensor table and validity of a llama.cpp file (exit 0)', () => {
    const r = runCli('inspect', modelPath('q4_k_m'), '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.valid, true);
    assert.equal(out.metadata['general.file_type'].value, 15);
    assert.equal(out.metadata['tokenizer.ggml.tokens'].value.length, 2048);
    assert.equal(out.tensors.length, 57);
    const refs = dequantReferences('q4_k_m');
    for (const t of out.tensors) {
      const ref = refs.find((x) => x.name === t.name)!;
      assert.equal(t.bytes, ref.nbytes, t.name);
      assert.equal(t.type.toLowerCase(), ref.type.toLowerCase(), t.name);
    }
    const human = runCli('inspect', modelPath('q4_k_m'));
    assert.equal(human.status, 0);
    assert.match(human.stdout, /blk\.0\.attn_v\.weight\s+Q4_K\s+\[256, 128\]/);
    assert.match(human.stdout, /^valid: /m);
  });

  it('inspect exits 1 with the error message for an invalid file', () => {
    const bytes = encodeGGUF({
      metadata: [['general.alignment', meta.u32(32)]],
      tensors: [
        { name: 'w', type: 'Q4_0', shape: [64, 4], data: new Uint8Array(144) },
        { name: 'v', type: 'F32', shape: [8], data: new Uint8Array(32) },
      ],
    });
    setU64(bytes, entryFields(tensorInfo(bytes, 'v')).offset, 128n);
    const file = path.join(dir, 'bad.gguf');
    fs.writeFileSync(file, bytes);
    const r = runCli('inspect', file);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /'w' needs shape \[64, 4\] of Q4_0: 8 32-value blocks x 18 bytes = 144 bytes .* only 128 bytes are available before tensor 'v'/);
    const j = runCli('inspect', file, '--json');
    assert.equal(j.status, 1);
    assert.deepEqual(JSON.parse(j.stdout).problems.map((p: { code: string }) => p.code), ['TENSOR_OVERLAP']);
    const notGguf = path.join(dir, 'not.gguf');
    fs.writeFileSync(notGguf, 'hello world, not a model');
    const n = runCli('inspect', notGguf);
    assert.equal(n.status, 1);
    assert.match(n.stderr, /not a GGUF file/);
  });

  it("tensor --json: llama.cpp's dequantized rows, every value parsing back to the same float32", () => {
    for (const suffix of ['q4_k_m', 'q5_1', 'bf16']) {
      const ref = dequantReferences(suffix).find((x) => x.name === 'blk.1.ffn_down.weight')!;
      const r = runCli('tensor', modelPath(suffix), ref.name, '--rows', '0:2', '--json');
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(out), ['name', 'type', 'shape', 'rows']);
      assert.deepEqual(out.shape, [768, 256]);
      for (const row of ['0', '1']) {
        assert.deepEqual(Float32Array.from(out.rows[row]), Float32Array.from(ref.rows[row]), `${suffix} row ${row}`);
      }
    }
  });

  it('tensor rejects rows outside the tensor and unknown names, naming what exists', () => {
    const r = runCli('tensor', modelPath('q8_0'), 'output_norm.weight', '--rows', '0:5');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--rows 0:5 is outside 0:1/);
    const n = runCli('tensor', modelPath('q8_0'), 'blk.0.attn_q');
    assert.equal(n.status, 1);
    assert.match(n.stderr, /no tensor named 'blk.0.attn_q'.*Did you mean 'blk.0.attn_q.weight'/);
  });

  it("blocks --json: Q8_0 fields decode to llama.cpp's row (d x q), raw fields match the file's bytes", () => {
    const ref = dequantReferences('q8_0').find((x) => x.name === 'token_embd.weight')!;
    const r = runCli('blocks', modelPath('q8_0'), 'token_embd.weight', '--rows', '0:1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.blocks.length, 8);
    const f = openGGUF(modelPath('q8_0'));
    const raw = f.readRowBytes('token_embd.weight', 0, 1);
    out.blocks.forEach((b: { block: number; row: number; column: number; d: number; q: number[] }, i: number) => {
      assert.deepEqual([b.block, b.row, b.column], [i, 0, 32 * i]);
      assert.equal(Math.fround(b.d), f16ToF32(raw[34 * i] | (raw[34 * i + 1] << 8)));
      assert.deepEqual(b.q, Array.from(new Int8Array(raw.buffer, raw.byteOffset + 34 * i + 2, 32)));
      b.q.forEach((q, k) => assert.equal(Math.fround(Math.fround(b.d) * q), Math.fround(ref.rows['0'][32 * i + k])));
    });
  });

  it('blocks --arrow writes a standard Arrow IPC file', () => {
    const out = path.join(dir, 'blocks.arrow');
    const r = runCli('blocks', modelPath('q4_k_m'), 'blk.0.attn_q.weight', '--arrow', out);
    assert.equal(r.status, 0, r.stderr);
    const { tableFromIPC } = require('apache-arrow') as typeof import('apache-arrow');
    const t = tableFromIPC(fs.readFileSync(out));
    assert.equal(t.numRows, 256);
    assert.deepEqual(t.schema.fields.map((x) => x.name), ['block', 'row', 'column', 'd', 'dmin', 'scales', 'mins', 'q']);
  });

  it('hexdump names the tensor and block of each line', () => {
    const file = path.join(dir, 'tiny.gguf');
    fs.writeFileSync(file, tinyFile());
    const f = openGGUF(file);
    const c = f.tensor('c.weight');
    const r = runCli('hexdump', file, '--offset', String(c.offset + 32), '--length', '16');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /c\.weight \+32 \(Q8_0 block 0, byte 32 of 34\)/);
    const h = runCli('hexdump', file, '--offset', '0', '--length', '16');
    assert.match(h.stdout, /^00000000  47 47 55 46 03 00 00 00 .*\|GGUF.*header/);
  });

  it('prints usage for unknown commands and bad flags (exit 2)', () => {
    assert.equal(runCli('frobnicate').status, 2);
    const r = runCli('tensor', modelPath('q8_0'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: llamascope tensor FILE NAME/);
  });
});
