import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeGGUF, meta, openGGUF, writeGGUF, GGUFError, GGUFValueType, type GGUFArray, type GGUFContents } from '../src/gguf';
import { REFERENCES_DIR, dequantReferences, fnv1a64, modelPath, modelSuffixes } from './helpers/references';
import { fuzzGGUF } from '../scripts/fuzz-gguf';
import { CpuBackend } from '../src/backend/cpu';
import { Tensor } from '../src/tensor';
import { entryFields, setU32, setU64, tensorInfo, tinyContents, tinyFile } from './helpers/tiny-gguf';

interface TensorTypesReference {
  size_bytes: number;
  'general.file_type': number;
  tensor_types: Record<string, string>;
}

describe('GGUF reader on the manllama-6m files (references made by gguf-py and llama.cpp)', () => {
  const typesRef = JSON.parse(fs.readFileSync(path.join(REFERENCES_DIR, 'tensor-types.json'), 'utf8')) as Record<
    string,
    TensorTypesReference
  >;

  it('finds all 21 files', () => assert.equal(modelSuffixes().length, 21));

  for (const suffix of modelSuffixes()) {
    it(`${suffix}: size, file type, every tensor's type, shape, size and raw-bytes hash; F32 rows and sums`, () => {
      const f = openGGUF(modelPath(suffix));
      try {
        const ref = typesRef[`manllama-6m-${suffix}.gguf`];
        assert.equal(f.fileSize, ref.size_bytes);
        assert.equal(f.get('general.file_type'), ref['general.file_type']);
        assert.deepEqual(Object.fromEntries(f.tensors.map((t) => [t.name, t.type.name])), ref.tensor_types);
        for (const r of dequantReferences(suffix)) {
          const t = f.tensor(r.name);
          assert.deepEqual([...t.shape, 1, 1, 1].slice(0, 4), r.ne, r.name);
          assert.equal(t.nBytes, r.nbytes, r.name);
          assert.equal(fnv1a64(f.readTensorBytes(t)), r.raw_fnv1a64, `raw bytes of ${r.name}`);
          if (t.type.name !== 'F32') continue;
          // Tensor bytes located correctly: rows equal bit for bit, float64 sums equal.
          const values = f.readRows(t);
          for (const [row, expected] of Object.entries(r.rows)) {
            const start = Number(row) * t.shape[0];
            assert.deepEqual(values.subarray(start, start + t.shape[0]), Float32Array.from(expected), `${r.name} row ${row}`);
          }
          let sum = 0;
          for (const v of values) sum += v;
          assert.equal(sum, r.sum, `sum of ${r.name}`);
        }
      } finally {
        f.close();
      }
    });
  }

  it('reads the metadata the model README documents', () => {
    const f = openGGUF(modelPath('q8_0'));
    try {
      assert.equal(f.get('general.architecture'), 'llama');
      assert.equal(f.get('llama.embedding_length'), 256);
      assert.equal(f.get('llama.attention.head_count_kv'), 4);
      assert.equal(f.get('llama.attention.layer_norm_rms_epsilon'), Math.fround(1e-5));
      const tokens = f.get('tokenizer.ggml.tokens') as string[];
      const scores = f.get('tokenizer.ggml.scores') as Float32Array;
      const types = f.get('tokenizer.ggml.token_type') as Int32Array;
      assert.equal(tokens.length, 2048);
      assert.deepEqual(tokens.slice(0, 4), ['<unk>', '<s>', '</s>', '<0x00>']);
      assert.equal(tokens[13], '<0x0A>');
      assert.ok(Object.is(scores[259], -0), 'score of id 259 is IEEE negative zero');
      assert.equal(scores[2047], -1788);
      assert.deepEqual([types[0], types[1], types[3], types[300]], [2, 3, 6, 1]);
      assert.equal(f.get('tokenizer.ggml.add_bos_token'), true);
    } finally {
      f.close();
    }
  });
});

describe('GGUF writer', () => {
  it('rewrites each of the 21 llama.cpp/gguf-py files byte for byte', () => {
    for (const suffix of modelSuffixes()) {
      const f = openGGUF(modelPath(suffix));
      const ours = encodeGGUF({
        metadata: f.metadata,
        tensors: f.tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape, data: () => f.readTensorBytes(t) })),
      });
      f.close();
      const theirs = fs.readFileSync(modelPath(suffix));
      assert.equal(ours.length, theirs.length, suffix);
      assert.ok(Buffer.from(ours).equals(theirs), `${suffix} differs`);
    }
  });

  it('round-trips every value type, nested arrays and tensor bytes: read(write(x)) == x', () => {
    const contents = tinyContents();
    const f = openGGUF(encodeGGUF(contents));
    assert.deepEqual([...f.metadata], [...contents.metadata]);
    for (const t of contents.tensors) {
      const info = f.tensor(t.name);
      assert.deepEqual(info.shape, t.shape);
      assert.equal(info.type.name, t.type);
      assert.deepEqual(f.readTensorBytes(info), t.data);
    }
  });

  it('reads every kind of vocabulary string: ASCII short and long, empty, multi-byte, a leading BOM', () => {
    const kinds = ['a', 'x'.repeat(32), 'y'.repeat(33), '', '▁über', '🦙', '\uFEFFbom', '<0x0A>', 'é'.repeat(40)];
    const tokens = Array.from({ length: 30000 }, (_, i) => kinds[i % kinds.length] + (i % 5 === 0 ? '' : String(i)));
    const f = openGGUF(encodeGGUF({ metadata: [['tokenizer.ggml.tokens', meta.strings(tokens)], ['after', meta.u32(7)]], tensors: [] }));
    assert.deepEqual(f.get('tokenizer.ggml.tokens'), tokens);
    assert.equal(f.get('after'), 7);
  });

  it('writes metadata far larger than its first buffer (a 40,000-token vocabulary)', () => {
    const tokens = Array.from({ length: 40000 }, (_, i) => `▁piece${i}`);
    const f = openGGUF(encodeGGUF({ metadata: [['tokenizer.ggml.tokens', meta.strings(tokens)], ['after', meta.u32(7)]], tensors: [] }));
    assert.deepEqual(f.get('tokenizer.ggml.tokens'), tokens);
    assert.equal(f.get('after'), 7);
  });

  it('aligns tensor data to general.alignment and pads the file end', () => {
    const contents = tinyContents();
    const bytes = encodeGGUF({ ...contents, metadata: [['general.alignment', meta.u32(64)], ...contents.metadata] });
    const f = openGGUF(bytes);
    assert.equal(f.alignment, 64);
    assert.equal(f.dataOffset % 64, 0);
    for (const t of f.tensors) assert.equal(t.relativeOffset % 64, 0, t.name);
    assert.equal(bytes.length % 64, 0);
  });

  it('streams to a file and refuses data whose length does not match shape and type', () => {
    const file = path.join(os.tmpdir(), `llamascope-writer-${process.pid}.gguf`);
    writeGGUF(file, tinyContents());
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), tinyFile());
    fs.unlinkSync(file);
    const bad = { metadata: [], tensors: [{ name: 'x', type: 'Q8_0', shape: [32], data: new Uint8Array(32) }] };
    assert.throws(() => encodeGGUF(bad), /got 32 bytes of data, but its shape and type need 34/);
  });
});

describe('GGUF reader is lazy', () => {
  it('opens a 1 GiB file in milliseconds without reading its tensor data', () => {
    const file = path.join(os.tmpdir(), `llamascope-lazy-${process.pid}.gguf`);
    const bytes = encodeGGUF({ metadata: [['general.architecture', meta.str('llama')]], tensors: [{ name: 'big', type: 'F32', shape: [32, 1], data: new Uint8Array(128) }] });
    const info = tensorInfo(bytes, 'big');
    setU64(bytes, entryFields(info).dims[0], 1024n);
    setU64(bytes, entryFields(info).dims[1], 2n ** 18n); // 2^28 f32 values = 1 GiB
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, bytes, 0, info.offset);
    fs.ftruncateSync(fd, info.offset + 2 ** 30); // sparse: no real gigabyte on disk
    fs.closeSync(fd);
    try {
      const rssBefore = process.memoryUsage().rss;
      const start = process.hrtime.bigint();
      const f = openGGUF(file);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const grew = process.memoryUsage().rss - rssBefore;
      assert.equal(f.tensor('big').nBytes, 2 ** 30);
      assert.ok(ms < 50, `open took ${ms} ms`);
      assert.ok(grew < 32 * 2 ** 20, `open grew RSS by ${grew} bytes`);
      assert.deepEqual(f.readRows('big', 70000, 70001), new Float32Array(1024)); // read by range from the sparse file
      f.close();
    } finally {
      fs.unlinkSync(file);
    }
  });
});

/** Expect openGGUF to fail with this code; returns the error for message checks. */
function expectError(bytes: Uint8Array, code: GGUFError['code']): GGUFError {
  try {
    openGGUF(bytes);
  } catch (e) {
    assert.ok(e instanceof GGUFError, `expected a GGUFError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}, but the file opened`);
}

function withMetadata(metadata: GGUFContents['metadata'], tensors: GGUFContents['tensors'] = []): Uint8Array {
  return encodeGGUF({ metadata, tensors });
}

describe('GGUF errors: each code from a hand-made bad file', () => {
  it('BAD_MAGIC', () => {
    const b = tinyFile();
    b.set([0x47, 0x47, 0x4d, 0x4c], 0);
    assert.match(expectError(b, 'BAD_MAGIC').message, /starts with "GGML", not "GGUF"/);
  });
  it('BIG_ENDIAN', () => {
    const b = tinyFile();
    b.set([0, 0, 0, 3], 4);
    assert.match(expectError(b, 'BIG_ENDIAN').message, /big-endian/);
  });
  it('UNSUPPORTED_VERSION (v1 and a future v4)', () => {
    const b = tinyFile();
    setU32(b, 4, 1);
    assert.match(expectError(b, 'UNSUPPORTED_VERSION').message, /version 1.*obsolete/);
    setU32(b, 4, 4);
    expectError(b, 'UNSUPPORTED_VERSION');
  });
  it('TRUNCATED: inside a metadata value', () => {
    const b = withMetadata([['k', meta.f64(1)]]);
    const err = expectError(b.slice(0, 24 + 8 + 1 + 4 + 4), 'TRUNCATED'); // half of the f64
    assert.match(err.message, /the file ends while reading .* needs \d+ bytes at offset \d+ but only \d+ remain/);
  });
  it('LENGTH_OUT_OF_RANGE: an item of a string array longer than the rest of the file, naming the item', () => {
    const b = withMetadata([['tokenizer.ggml.tokens', meta.strings(['one', 'two', 'three'])]]);
    const three = Buffer.from(b).indexOf('three');
    const err = expectError(b.slice(0, three + 3), 'LENGTH_OUT_OF_RANGE'); // the last two bytes of "three" missing
    assert.match(err.message, /item 2 of 'tokenizer\.ggml\.tokens'/);
  });
  it('COUNT_OUT_OF_RANGE: a tensor count of 2^62 and an array count of 2^40', () => {
    const b = tinyFile();
    setU64(b, 8, 2n ** 62n);
    assert.match(expectError(b, 'COUNT_OUT_OF_RANGE').message, /tensor count at offset 8 is 4611686018427387904/);
    const c = withMetadata([['k', meta.f32s([1, 2, 3])]]);
    setU64(c, 24 + 8 + 1 + 4 + 4, 2n ** 40n); // header, key "k", value type, item type, then the count
    assert.match(expectError(c, 'COUNT_OUT_OF_RANGE').message, /item count of array 'k' .* is 1099511627776/);
  });
  it('LENGTH_OUT_OF_RANGE: a string length of 2^63', () => {
    const b = withMetadata([['k', meta.str('hello')]]);
    setU64(b, 24 + 8 + 1 + 4, 2n ** 63n);
    assert.match(expectError(b, 'LENGTH_OUT_OF_RANGE').message, /length of the value of 'k' .* is 9223372036854775808/);
  });
  it('BAD_VALUE_TYPE', () => {
    const b = withMetadata([['k', meta.u32(7)]]);
    setU32(b, 24 + 8 + 1, 13);
    assert.match(expectError(b, 'BAD_VALUE_TYPE').message, /'k' has value type 13/);
  });
  it('NESTING_TOO_DEEP', () => {
    let nested: GGUFArray = { itemType: GGUFValueType.UINT8, items: Uint8Array.from([1]) };
    for (let i = 0; i < 10; i++) nested = { itemType: GGUFValueType.ARRAY, items: [nested] };
    const b = withMetadata([['deep', { type: GGUFValueType.ARRAY, value: nested }]]);
    expectError(b, 'NESTING_TOO_DEEP');
  });
  it('EMPTY_KEY and DUPLICATE_KEY', () => {
    expectError(withMetadata([['', meta.u8(1)]]), 'EMPTY_KEY');
    assert.match(expectError(withMetadata([['a', meta.u8(1)], ['a', meta.u8(2)]]), 'DUPLICATE_KEY').message, /'a' appears twice/);
  });
  it('BAD_ALIGNMENT: not a power of two, or not a uint32', () => {
    const b = withMetadata([['general.alignment', meta.u32(32)]]);
    setU32(b, 24 + 8 + 'general.alignment'.length + 4, 48);
    assert.match(expectError(b, 'BAD_ALIGNMENT').message, /must be a uint32 power of two, but it is uint32 48/);
    expectError(withMetadata([['general.alignment', meta.u64(32n)]]), 'BAD_ALIGNMENT');
  });
  it('NAME_TOO_LONG and DUPLICATE_TENSOR', () => {
    const f32 = (name: string) => ({ name, type: 'F32', shape: [1], data: new Uint8Array(4) });
    expectError(withMetadata([], [f32('n'.repeat(64))]), 'NAME_TOO_LONG');
    assert.match(expectError(withMetadata([], [f32('w'), f32('w')]), 'DUPLICATE_TENSOR').message, /'w' is used by tensors #0 and #1/);
  });
  it('TOO_MANY_DIMS', () => {
    const b = tinyFile();
    setU32(b, entryFields(tensorInfo(b, 'b.weight')).nDims, 5);
    assert.match(expectError(b, 'TOO_MANY_DIMS').message, /'b.weight' has 5 dimensions/);
  });
  it('BAD_DIMENSION: zero and negative', () => {
    const b = tinyFile();
    const fields = entryFields(tensorInfo(b, 'a.weight'));
    setU64(b, fields.dims[1], 0n);
    assert.match(expectError(b, 'BAD_DIMENSION').message, /'a.weight' has dimension 1 = 0/);
    setU64(b, fields.dims[1], 2n ** 64n - 1n);
    assert.match(expectError(b, 'BAD_DIMENSION').message, /dimension 1 = -1/);
  });
  it('TOO_MANY_ELEMENTS', () => {
    const b = tinyFile();
    const fields = entryFields(tensorInfo(b, 'a.weight'));
    setU64(b, fields.dims[0], 2n ** 40n);
    setU64(b, fields.dims[1], 2n ** 40n);
    expectError(b, 'TOO_MANY_ELEMENTS');
  });
  it('UNKNOWN_TYPE', () => {
    const b = tinyFile();
    setU32(b, entryFields(tensorInfo(b, 'b.weight')).type, 99);
    assert.match(expectError(b, 'UNKNOWN_TYPE').message, /'b.weight' has type id 99/);
  });
  it('ROW_NOT_WHOLE_BLOCKS', () => {
    const b = tinyFile();
    setU64(b, entryFields(tensorInfo(b, 'c.weight')).dims[0], 48n);
    assert.match(expectError(b, 'ROW_NOT_WHOLE_BLOCKS').message, /Q8_0 has rows of 48 values, not a multiple of its 32-value blocks/);
  });
  it('MISALIGNED_TENSOR', () => {
    const b = tinyFile();
    const info = tensorInfo(b, 'c.weight');
    setU64(b, entryFields(info).offset, BigInt(info.relativeOffset - 8));
    assert.match(expectError(b, 'MISALIGNED_TENSOR').message, /'c.weight' starts at data offset \d+, not a multiple of the alignment 32/);
  });
  it('TENSOR_OUT_OF_FILE: truncated data and an offset of 2^62', () => {
    const b = tinyFile();
    const info = tensorInfo(b, 'c.weight');
    const cut = b.slice(0, info.offset + 100);
    assert.match(
      expectError(cut, 'TENSOR_OUT_OF_FILE').message,
      /'c.weight' needs shape \[64, 2\] of Q8_0: 4 32-value blocks x 34 bytes = 136 bytes from offset \d+, but the file ends 100 bytes later/,
    );
    setU64(b, entryFields(info).offset, 2n ** 62n);
    expectError(b, 'TENSOR_OUT_OF_FILE');
  });
  it("TENSOR_OVERLAP: seed 004's file, a Q4_0 tensor packed as if blocks were 16 bytes", async () => {
    // The writer of such a file believed Q4_0 blocks are 16 bytes (no scale): 8 blocks take 128 bytes,
    // and the next tensor starts right there. Q4_0 blocks are 18 bytes, so the shape needs 144.
    const contents: GGUFContents = {
      metadata: [['general.alignment', meta.u32(32)]],
      tensors: [
        { name: 'blk.0.ffn_up.weight', type: 'Q4_0', shape: [64, 4], data: new Uint8Array(144) },
        { name: 'blk.0.ffn_down.weight', type: 'F32', shape: [8], data: new Uint8Array(32) },
      ],
    };
    const b = encodeGGUF(contents);
    setU64(b, entryFields(tensorInfo(b, 'blk.0.ffn_down.weight')).offset, 128n);
    const err = expectError(b, 'TENSOR_OVERLAP');
    assert.equal(err.details.tensor, 'blk.0.ffn_up.weight');
    assert.match(
      err.message,
      /'blk.0.ffn_up.weight' needs shape \[64, 4\] of Q4_0: 8 32-value blocks x 18 bytes = 144 bytes from offset \d+, but only 128 bytes are available before tensor 'blk.0.ffn_down.weight'/,
    );
    const lenient = openGGUF(b, { strict: false });
    assert.deepEqual(lenient.problems.map((p) => p.code), ['TENSOR_OVERLAP']);
    assert.throws(() => lenient.readRows('blk.0.ffn_up.weight'), (e: unknown) => e instanceof GGUFError && e.code === 'TENSOR_OVERLAP');
    assert.equal(lenient.readRows('blk.0.ffn_down.weight').length, 8);
    // Read straight into device memory (the CPU backend's uploadWith): the failed read leaves no buffer behind.
    for (const backend of [new CpuBackend({ kernels: 'wasm', threads: 1 }), new CpuBackend({ kernels: 'reference' })]) {
      const before = backend.bytesInUse;
      assert.throws(() => Tensor.fromGGUF(lenient, 'blk.0.ffn_up.weight', { backend }), (e: unknown) => e instanceof GGUFError && e.code === 'TENSOR_OVERLAP');
      assert.equal(backend.bytesInUse, before);
      assert.deepEqual(Array.from(await Tensor.fromGGUF(lenient, 'blk.0.ffn_down.weight', { backend }).data()), Array.from(lenient.readRows('blk.0.ffn_down.weight')));
    }
  });
});

describe('GGUF reader under corrupt and hostile input', () => {
  it('every truncation of a valid file before its last tensor byte fails with a GGUFError', () => {
    const b = tinyFile();
    const f = openGGUF(b);
    const end = Math.max(...f.tensors.map((t) => t.offset + t.nBytes));
    for (let n = 0; n < end; n++) {
      assert.throws(() => openGGUF(b.subarray(0, n)), (e: unknown) => e instanceof GGUFError, `truncated to ${n} bytes`);
    }
  });
  it(`seeded mutation fuzz: opens or fails with a GGUFError, fast, never anything else`, function () {
    const iterations = Number(process.env.LLAMASCOPE_FUZZ_ITERATIONS ?? 3000);
    const { failures, slowestMs } = fuzzGGUF(iterations, 12345);
    assert.equal(failures.length, 0, failures.slice(0, 3).join('\n'));
    assert.ok(slowestMs < 250, `slowest case took ${slowestMs} ms`);
  });
});
