import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeGGUF, meta } from '../src/gguf';
import { GGML_TYPES } from '../src/quant';
import { describeBlock, doctor, formatDoctorReport } from '../src/inspect/doctor';
import { modelPath } from './helpers/references';
import { runCli } from './helpers/cli';
import { entryFields, setU64, tensorInfo, tinyFile } from './helpers/tiny-gguf';

describe('doctor: validation explained, with the bytes around each problem', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-doctor-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Uint8Array | string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  it('a valid llama.cpp file: "valid" with a summary, exit 0', () => {
    const report = doctor(modelPath('q4_k_m'));
    assert.equal(report.valid, true);
    assert.deepEqual(report.findings, []);
    // From the model README: 57 tensors, 39 Q4_K + 5 Q6_K + 13 F32 norms, 5,770,496 parameters.
    assert.match(report.summary.join('\n'), /57 tensors \(39 Q4_K, 13 F32, 5 Q6_K\), 5,770,496 values/);
    const cli = runCli('doctor', modelPath('q4_k_m'));
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /: valid\n/);
  });

  it("TENSOR_OVERLAP (seed 004's file): explains 18-byte Q4_0 blocks against 128 bytes, names the likely writer's mistake", () => {
    // The writer believed Q4_0 blocks are 16 bytes (no scale): 8 blocks in 128 bytes, the next tensor right after.
    const bytes = encodeGGUF({
      metadata: [['general.alignment', meta.u32(32)]],
      tensors: [
        { name: 'blk.0.ffn_up.weight', type: 'Q4_0', shape: [64, 4], data: new Uint8Array(144) },
        { name: 'blk.0.ffn_down.weight', type: 'F32', shape: [8], data: new Uint8Array(32) },
      ],
    });
    setU64(bytes, entryFields(tensorInfo(bytes, 'blk.0.ffn_down.weight')).offset, 128n);
    const file = write('overlap.gguf', bytes);
    const next = tensorInfo(bytes, 'blk.0.ffn_down.weight').offset;

    const report = doctor(file);
    assert.equal(report.valid, false);
    assert.equal(report.findings.length, 1);
    const [f] = report.findings;
    assert.equal(f.code, 'TENSOR_OVERLAP');
    const text = f.explanation.join('\n');
    assert.match(text, /A Q4_0 block \(32 values\) is 18 bytes: f16 scale d \(2\) \+ 4-bit quants \(16\)/);
    assert.match(text, /8 32-value blocks x 18 bytes, so it needs 144 bytes from byte \d+; the next tensor, 'blk.0.ffn_down.weight', starts 128 bytes later/);
    assert.match(text, /8 blocks of 16 bytes: Q4_0 blocks without their f16 scale d \(2 bytes\)\. The writer likely assumed 16-byte blocks \(no scale\)/);
    // The hexdump covers the boundary where the next tensor starts, each line naming its tensor.
    const boundaryLine = (next - (next % 16)).toString(16).padStart(8, '0');
    assert.match(f.hexdump!, new RegExp(`^${boundaryLine}  `, 'm'));
    assert.match(f.hexdump!, /blk\.0\.ffn_up\.weight \+\d+ \(Q4_0 block \d+/);
    assert.match(f.hexdump!, /blk\.0\.ffn_down\.weight \+\d+/);

    const cli = runCli('doctor', file);
    assert.equal(cli.status, 1);
    assert.match(cli.stdout, /1\. TENSOR_OVERLAP: .*\n.*18 bytes/);
    const json = JSON.parse(runCli('doctor', file, '--json').stdout);
    assert.deepEqual(json.findings.map((x: { code: string }) => x.code), ['TENSOR_OVERLAP']);
  });

  it('TENSOR_OVERLAP where the space fits another type: says which types the data would fit', () => {
    // 64 values declared F32 (256 bytes) but given 128 bytes: the size of 64 two-byte values.
    const bytes = encodeGGUF({
      metadata: [],
      tensors: [
        { name: 'a.weight', type: 'F32', shape: [64], data: new Uint8Array(256) },
        { name: 'b.weight', type: 'F32', shape: [8], data: new Uint8Array(32) },
      ],
    });
    setU64(bytes, entryFields(tensorInfo(bytes, 'b.weight')).offset, 128n);
    const [f] = doctor(write('type.gguf', bytes)).findings;
    assert.match(f.explanation.join('\n'), /That space is what this shape takes in F16, I16 or BF16: the type id may be wrong/);
  });

  it('TENSOR_OUT_OF_FILE: a file cut short inside its last tensor, how much is missing, the last bytes', () => {
    const whole = tinyFile();
    const info = tensorInfo(whole, 'c.weight'); // the last tensor: Q8_0 [64, 2] = 4 blocks x 34 bytes = 136
    const file = write('cut.gguf', whole.slice(0, info.offset + 100));
    const [f] = doctor(file).findings;
    assert.equal(f.code, 'TENSOR_OUT_OF_FILE');
    const text = f.explanation.join('\n');
    assert.match(text, /A Q8_0 block \(32 values\) is 34 bytes: f16 scale d \(2\) \+ 8-bit quants \(32\)/);
    assert.match(text, /needs 136 bytes from byte \d+, but the file ends 100 bytes after that: 36 bytes \(26\.5 % of the tensor\) are missing/);
    assert.match(text, /Only this tensor runs past the end and all before fit: the file was most likely cut short/);
    assert.match(f.hexdump!, /c\.weight \+96 \(Q8_0 block 2, byte 28 of 34\)/);
    assert.equal(runCli('doctor', file).status, 1);
  });

  it('BAD_MAGIC: shows the first bytes and recognizes what the file is instead', () => {
    const ggml = tinyFile();
    ggml.set([0x47, 0x47, 0x4d, 0x4c], 0);
    const [f] = doctor(write('ggml.gguf', ggml)).findings;
    assert.equal(f.code, 'BAD_MAGIC');
    assert.match(f.explanation[0], /starts with the 4 bytes 47 47 55 46 \("GGUF"\); this one starts with 47 47 4d 4c \("GGML"\)/);
    assert.match(f.hexdump!, /^00000000  47 47 4d 4c 03 00 00 00/);

    const page = doctor(write('page.gguf', '<!DOCTYPE html><html><body>404</body></html>')).findings[0];
    assert.match(page.explanation.join('\n'), /web page/);
    const legacy = new Uint8Array(64);
    new DataView(legacy.buffer).setUint32(0, 0x67676a74, true); // 'ggjt', llama.cpp's pre-GGUF format
    assert.match(doctor(write('ggjt.bin', legacy)).findings[0].explanation.join('\n'), /'ggjt', llama\.cpp's format before GGUF/);
    assert.equal(runCli('doctor', path.join(dir, 'page.gguf')).status, 1);
  });

  it('TRUNCATED: where the reader ran out, what it needed, the last bytes of the file', () => {
    const bytes = encodeGGUF({ metadata: [['k', meta.f64(1)]], tensors: [] });
    const cut = bytes.slice(0, 24 + 8 + 1 + 4 + 4); // header, key "k", value type, then half of the f64
    const [f] = doctor(write('trunc.gguf', cut)).findings;
    assert.equal(f.code, 'TRUNCATED');
    assert.match(f.explanation[0], /at byte 37 the reader needed 8 bytes, but the file ends 4 bytes later \(file size 41\)/);
    assert.match(f.explanation[1], /cut short/);
    assert.match(f.hexdump!, /^00000020  [0-9a-f ]+\|.*\|  <- byte 37\n\(end of file at byte 41\)$/m);

    const empty = doctor(write('empty.gguf', new Uint8Array(0))).findings[0];
    assert.equal(empty.code, 'TRUNCATED');
    assert.match(empty.hexdump!, /the file is empty/);
  });

  it('a path that cannot be read: IO, exit 1', () => {
    const report = doctor(path.join(dir, 'missing.gguf'));
    assert.equal(report.findings[0].code, 'IO');
    assert.match(formatDoctorReport(report), /could not be read/);
    assert.equal(runCli('doctor', path.join(dir, 'missing.gguf')).status, 1);
  });

  it("describes every type's block with fields that add up to ggml's block size", () => {
    for (const type of GGML_TYPES.filter((t) => t.codec)) {
      const text = describeBlock(type);
      const sizes = [...text.matchAll(/\((\d+)\)/g)].map((m) => Number(m[1]));
      assert.ok(text.includes(`is ${type.typeSize} bytes`), text);
      if (sizes.length > 0) assert.equal(sizes.reduce((a, b) => a + b, 0), type.typeSize, text);
    }
  });
});
