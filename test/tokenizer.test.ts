// The GGUF tokenizer against llama.cpp itself: node-llama-cpp's model.tokenize/detokenize, live, on
// text from the held-out file and seeded random Unicode; llama.cpp's recorded prompt ids
// (references/greedy.json); and synthetic vocabularies that llama.cpp loads too (vocab only).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MODEL_DIR, REFERENCES_DIR, modelPath } from './helpers/references';
import { runCli } from './helpers/cli';
import { encodeGGUF, meta, openGGUF, type GGUFValue } from '../src/gguf';
import { Tokenizer, TokenType } from '../src/model/tokenizer';

/** What the comparisons use of node-llama-cpp (ESM-only, loaded with import()), ids as plain numbers. */
interface LlamaModel {
  tokenize(text: string, specialTokens?: boolean): number[];
  detokenize(tokens: readonly number[], specialTokens?: boolean): string;
  readonly tokens: { readonly bos: number | null; readonly eos: number | null };
  getTokenAttributes(token: number): { control: boolean; byte: boolean; unknown: boolean; userDefined: boolean; normal: boolean };
  isEogToken(token: number): boolean;
  dispose(): Promise<void>;
}
interface Llama {
  loadModel(options: { modelPath: string; vocabOnly: boolean }): Promise<LlamaModel>;
  dispose(): Promise<void>;
}

const HELD_OUT = path.join(MODEL_DIR, 'held-out.txt');
const REFERENCE_MODEL = modelPath('q8_0');

/** Seeded PRNG (mulberry32): the same strings on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lines, sentences and random slices (mid-word, with extra whitespace) of the held-out text. */
function corpusStrings(text: string, random: () => number, slices: number): string[] {
  const int = (n: number) => Math.floor(random() * n);
  const lines = text.split('\n');
  const sentences = text.split(/(?<=[.!?])\s+/).filter((_, i) => i % 7 === 0);
  const decorations = ['', ' ', '  ', '   ', '\t', '\n', '\n\n', ' \n', '\t ', '\r\n', '0', '42 '];
  const out = [...lines, ...sentences];
  for (let i = 0; i < slices; i++) {
    const length = 1 + Math.floor(Math.exp(random() * Math.log(400)));
    const start = int(text.length - length);
    out.push(decorations[int(decorations.length)] + text.slice(start, start + length) + decorations[int(decorations.length)]);
  }
  return out;
}

/** Random Unicode: every kind of character a tokenizer can trip over, lone surrogates included. */
function unicodeStrings(random: () => number, count: number): string[] {
  const int = (n: number) => Math.floor(random() * n);
  const from = (lo: number, hi: number) => String.fromCodePoint(lo + int(hi - lo + 1));
  const kinds: (() => string)[] = [
    () => from(0x20, 0x7e), // printable ASCII
    () => from(0x20, 0x7e),
    () => ['a', 'e', 't', 'the', 'ing', 'tion'][int(6)],
    () => [' ', '  ', '\t', '\n', '\r\n', '\v', '\f', '   '][int(8)],
    () => from(0x30, 0x39), // digits (split one by one)
    () => from(0xa0, 0xff), // Latin-1
    () => from(0x100, 0x4ff), // Latin extended, Greek, Cyrillic
    () => from(0x4e00, 0x9fff), // CJK
    () => from(0xac00, 0xd7a3), // Hangul
    () => from(0x1f300, 0x1faff) + ['', '\u200d', '\ufe0f'][int(3)], // emoji, ZWJ sequences
    () => from(0x300, 0x36f), // combining marks
    () => [from(0x0, 0x1f), '\x7f', from(0x80, 0x9f)][int(3)], // control characters, NUL included
    () => String.fromCharCode(0xd800 + int(0x800)), // lone surrogate (becomes U+FFFD on both sides)
    () => '\x1e', // the vocabulary's record-separator piece
    () => ['\u2581', '\ufffd', '\ufeff', '\u200b', '\u00a0'][int(5)], // "▁" itself and invisible characters
    () => from(0x10000, 0x10ffff), // any astral code point
    () => ['<s>', '</s>', '<unk>', '<0x41>', '<', '>'][int(6)],
  ];
  return Array.from({ length: count }, () => {
    let s = '';
    for (let n = 1 + int(24); n > 0; n--) s += kinds[int(kinds.length)]();
    return s;
  });
}

const SPECIAL_TEXT = [
  '<s>', '</s>', '<unk>', 'a<s>b', ' <s> ', '<s><s>', '</s>text<s>', '<<s>>', '<s', 's>', '<s>  two spaces',
  'Once upon a time</s>', '</s>\n<s>', '<0x41><0x0A>', '<s>\u2581x', '\n<s>\n',
];

interface Mismatch {
  what: string;
  input: unknown;
  ours: unknown;
  llamaCpp: unknown;
}

/** Compares tokenization (parse_special off and on) and detokenization of every string. */
function compareStrings(tokenizer: Tokenizer, model: LlamaModel, strings: string[], mismatches: Mismatch[]): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const note = (what: string, input: unknown, ours: unknown, llamaCpp: unknown) => {
    if (!same(ours, llamaCpp)) mismatches.push({ what, input, ours, llamaCpp });
  };
  for (const text of strings) {
    for (const parseSpecial of [false, true]) {
      const ids = tokenizer.encode(text, { addBos: false, addEos: false, parseSpecial });
      const reference = model.tokenize(text, parseSpecial);
      note(`encode parseSpecial=${parseSpecial}`, text, ids, reference);
      note('decode', reference, tokenizer.decode(reference), model.detokenize(reference));
      note('decode renderSpecial', reference, tokenizer.decode(reference, { renderSpecial: true }), model.detokenize(reference, true));
      if (model.tokens.bos !== null) {
        const withBos = [model.tokens.bos, ...reference];
        note('decode after BOS', withBos, tokenizer.decode(withBos), model.detokenize(withBos));
      }
    }
  }
}

/** Random id sequences (byte tokens that break UTF-8, control tokens anywhere) decoded both ways. */
function compareRandomIds(tokenizer: Tokenizer, model: LlamaModel, random: () => number, count: number, mismatches: Mismatch[]): void {
  for (let i = 0; i < count; i++) {
    const ids = Array.from({ length: 1 + Math.floor(random() * 12) }, () =>
      random() < 0.5 ? Math.floor(random() * 259) : Math.floor(random() * tokenizer.vocabSize),
    );
    for (const renderSpecial of [false, true]) {
      const ours = tokenizer.decode(ids, { renderSpecial });
      const theirs = model.detokenize(ids, renderSpecial);
      if (ours !== theirs) mismatches.push({ what: `decode ids renderSpecial=${renderSpecial}`, input: ids, ours, llamaCpp: theirs });
    }
  }
}

function assertNoMismatch(mismatches: Mismatch[]): void {
  const shown = mismatches.slice(0, 8).map((m) => `${m.what}: ${JSON.stringify(m.input)}\n   ours      ${JSON.stringify(m.ours)}\n   llama.cpp ${JSON.stringify(m.llamaCpp)}`);
  assert.equal(mismatches.length, 0, `${mismatches.length} differences from llama.cpp, e.g.\n${shown.join('\n')}`);
}

describe('tokenizer: GGUF "llama" vocabulary, identical to llama.cpp', function () {
  let llama: Llama;
  let model: LlamaModel;
  let tokenizer: Tokenizer;
  const heldOut = fs.readFileSync(HELD_OUT, 'utf8');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-tokenizer-'));

  before(async () => {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    llama = (await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, progressLogs: false, logLevel: LlamaLogLevel.disabled } as never)) as unknown as Llama;
    model = await llama.loadModel({ modelPath: REFERENCE_MODEL, vocabOnly: true });
    const file = openGGUF(REFERENCE_MODEL);
    tokenizer = Tokenizer.fromGGUF(file);
    file.close();
  });

  after(async () => {
    await model?.dispose();
    await llama?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tokenizes and detokenizes >= 2,000 held-out and random Unicode strings exactly as llama.cpp', () => {
    const random = prng(20250220);
    const strings = [...corpusStrings(heldOut, random, 700), ...unicodeStrings(random, 900), ...SPECIAL_TEXT];
    assert.ok(strings.length >= 2000, `only ${strings.length} strings`);
    const mismatches: Mismatch[] = [];
    compareStrings(tokenizer, model, strings, mismatches);
    compareRandomIds(tokenizer, model, random, 500, mismatches);
    assertNoMismatch(mismatches);
  });

  it('tokenizes the whole held-out file as llama.cpp does (41,420 tokens with BOS), in well under a second', () => {
    const started = performance.now();
    const ids = tokenizer.encode(heldOut);
    const elapsed = performance.now() - started;
    assert.deepEqual(ids, [model.tokens.bos, ...model.tokenize(heldOut)]);
    assert.equal(ids.length, 41420); // the shared README's count
    assert.ok(elapsed < 1000, `tokenizing held-out.txt took ${elapsed.toFixed(0)} ms`);
  });

  it("adds BOS the way llama.cpp does: references/greedy.json's prompt ids for every file", () => {
    const greedy = JSON.parse(fs.readFileSync(path.join(REFERENCES_DIR, 'greedy.json'), 'utf8'));
    for (const [name, prompts] of Object.entries<Record<string, { prompt_tokens: number[] }>>(greedy.results)) {
      const file = openGGUF(path.join(MODEL_DIR, name));
      const t = Tokenizer.fromGGUF(file);
      file.close();
      for (const [prompt, result] of Object.entries(prompts)) assert.deepEqual(t.encode(prompt), result.prompt_tokens, `${name}: ${prompt}`);
    }
    assertSameSpecialIds(tokenizer, model);
  });

  it('classifies every token as llama.cpp does (control, byte, unknown, normal, end of generation)', () => {
    assertSameAttributes(tokenizer, model);
    assert.equal(tokenizer.tokenType(2042), TokenType.NORMAL);
    assert.equal(tokenizer.piece(2042), '\x1e');
  });

  describe('synthetic vocabularies, loaded by llama.cpp too', () => {
    const source = openGGUF(REFERENCE_MODEL);
    const base = [...source.metadata].filter(([k]) => k !== 'llama.vocab_size');
    const texts = source.get('tokenizer.ggml.tokens') as string[];
    const scores = source.get('tokenizer.ggml.scores') as Float32Array;
    const types = source.get('tokenizer.ggml.token_type') as Int32Array;
    source.close();

    /** The reference vocabulary with metadata replaced (undefined deletes a key) and tokens appended. */
    async function variant(name: string, changes: Record<string, GGUFValue | undefined>, extra: [string, TokenType][] = []) {
      const metadata = new Map<string, GGUFValue>(base);
      metadata.set('tokenizer.ggml.tokens', meta.strings([...texts, ...extra.map(([t]) => t)]));
      metadata.set('tokenizer.ggml.scores', meta.f32s([...scores, ...extra.map(() => 0)]));
      metadata.set('tokenizer.ggml.token_type', meta.i32s([...types, ...extra.map(([, t]) => t)]));
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) metadata.delete(k);
        else metadata.set(k, v);
      }
      const file = path.join(dir, `${name}.gguf`);
      fs.writeFileSync(file, encodeGGUF({ metadata, tensors: [] }));
      const gguf = openGGUF(file);
      const ours = Tokenizer.fromGGUF(gguf);
      gguf.close();
      const theirs = await llama.loadModel({ modelPath: file, vocabOnly: true });
      return { ours, theirs };
    }

    async function compareVariant(ours: Tokenizer, theirs: LlamaModel, more: string[]) {
      try {
        const random = prng(7);
        const mismatches: Mismatch[] = [];
        compareStrings(ours, theirs, [...corpusStrings(heldOut, random, 150).slice(-150), ...unicodeStrings(random, 150), ...SPECIAL_TEXT, ...more], mismatches);
        compareRandomIds(ours, theirs, random, 200, mismatches);
        assertNoMismatch(mismatches);
        assertSameAttributes(ours, theirs);
        assertSameSpecialIds(ours, theirs);
      } finally {
        await theirs.dispose();
      }
    }

    it('add_space_prefix = false, add_bos_token = false, add_eos_token = true', async () => {
      const { ours, theirs } = await variant('no-space-prefix', {
        'tokenizer.ggml.add_space_prefix': meta.bool(false),
        'tokenizer.ggml.add_bos_token': meta.bool(false),
        'tokenizer.ggml.add_eos_token': meta.bool(true),
      });
      assert.equal(ours.addSpacePrefix, false);
      assert.deepEqual(ours.encode('The end'), [...theirs.tokenize('The end'), 2]);
      await compareVariant(ours, theirs, [' leading space', 'no leading space']);
    });

    it('user-defined tokens, control-looking texts, unused and undefined types, integer scores', async () => {
      const extra: [string, TokenType][] = [
        ['<tool>', TokenType.USER_DEFINED],
        ['<tool>call', TokenType.USER_DEFINED], // contains '<tool>': the longer text is cut out first
        ['hello world', TokenType.USER_DEFINED], // matched before spaces become "▁"
        ['<|im_end|>', TokenType.NORMAL], // promoted to CONTROL, ends generation
        ['▁<PRE>', TokenType.NORMAL], // FIM prefix marker: promoted to CONTROL
        ['<unused0>', TokenType.CONTROL],
        ['[UNUSED]', TokenType.UNUSED],
        ['xyzzy', TokenType.UNDEFINED],
        ['<|channel|>', TokenType.CONTROL], // always rendered: becomes USER_DEFINED
      ];
      const { ours, theirs } = await variant('special', { 'tokenizer.ggml.scores': meta.i32s(Array.from(scores, Math.round).concat(extra.map(() => 0))) }, extra);
      assert.ok(ours.isControl(ours.idOf('<|im_end|>')!) && ours.isEndOfGeneration(ours.idOf('<|im_end|>')!));
      await compareVariant(ours, theirs, [
        'call <tool>call and <tool>!',
        'say hello world<|im_end|> <|channel|>x',
        ' hello world',
        '<|im_end|><|im_end|>',
        '\u2581<PRE> code <unused0> [UNUSED] xyzzy',
        '<tool><s><tool>',
      ]);
    });

    it('no token_type key (every token normal) and no special ids (defaults 1/2/0)', async () => {
      const { ours, theirs } = await variant('untyped', {
        'tokenizer.ggml.token_type': undefined,
        'tokenizer.ggml.bos_token_id': undefined,
        'tokenizer.ggml.eos_token_id': undefined,
        'tokenizer.ggml.unknown_token_id': undefined,
      });
      assert.equal(ours.isByte(13), false);
      await compareVariant(ours, theirs, ['line\nbreak', '<s>']);
    });
  });

  it('refuses a GGUF whose tokenizer is not "llama", naming it and what is supported', () => {
    const bytes = encodeGGUF({
      metadata: [
        ['general.architecture', meta.str('llama')],
        ['tokenizer.ggml.model', meta.str('gpt2')],
        ['tokenizer.ggml.tokens', meta.strings(['a', 'b'])],
        ['tokenizer.ggml.merges', meta.strings(['a b'])],
      ],
      tensors: [],
    });
    const file = openGGUF(bytes);
    assert.throws(() => Tokenizer.fromGGUF(file), /tokenizer\.ggml\.model is "gpt2" \(byte-level BPE.*\), which llamascope does not support yet; it supports "llama"/);
    const gguf = path.join(dir, 'gpt2.gguf');
    fs.writeFileSync(gguf, bytes);
    const r = runCli('tokenize', gguf, 'hello');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /"gpt2".*supports "llama"/);
    const none = openGGUF(encodeGGUF({ metadata: [['general.architecture', meta.str('llama')]], tensors: [] }));
    assert.throws(() => Tokenizer.fromGGUF(none), /has no tokenizer\.ggml\.model/);
  });

  it("CLI: `tokenize --json` gives greedy.json's prompt ids; --no-bos gives llama.cpp's raw tokenization", () => {
    const greedy = JSON.parse(fs.readFileSync(path.join(REFERENCES_DIR, 'greedy.json'), 'utf8'));
    const prompt = 'The default value is';
    const r = runCli('tokenize', REFERENCE_MODEL, prompt, '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.tokens, greedy.results['manllama-6m-q8_0.gguf'][prompt].prompt_tokens);
    assert.equal(out.pieces.join(''), model.detokenize(out.tokens, true));
    const text = 'naïve\tcafé\n<s>';
    const raw = runCli('tokenize', REFERENCE_MODEL, text, '--no-bos', '--parse-special');
    assert.equal(raw.status, 0, raw.stderr);
    const ids = raw.stdout.split('\n').slice(2).filter((l) => l !== '').map((l) => Number(l.split(/\s+/)[0]));
    assert.deepEqual(ids, model.tokenize(text, true));
  });
});

/** BOS/EOS ids and llama.cpp's add_bos/add_eos flags (llama_vocab_get_add_bos/_eos). */
function assertSameSpecialIds(ours: Tokenizer, model: LlamaModel): void {
  // model.tokens.shouldPrependBosToken is false whenever node-llama-cpp hides a BOS that is not a
  // control token; its native binding returns llama.cpp's own flag.
  const native = (model as unknown as { _model: { shouldPrependBosToken(): boolean; shouldAppendEosToken(): boolean } })._model;
  assert.equal(ours.addBos, native.shouldPrependBosToken(), 'add_bos');
  assert.equal(ours.addEos, native.shouldAppendEosToken(), 'add_eos');
  // node-llama-cpp reports BOS/EOS only when they are control tokens.
  if (ours.bos !== null && ours.isControl(ours.bos)) assert.equal(ours.bos, model.tokens.bos);
  if (ours.eos !== null && ours.isControl(ours.eos)) assert.equal(ours.eos, model.tokens.eos);
}

function assertSameAttributes(ours: Tokenizer, model: LlamaModel): void {
  const differences: string[] = [];
  for (let id = 0; id < ours.vocabSize; id++) {
    const a = model.getTokenAttributes(id);
    const expected = [a.control, a.byte, a.unknown, a.userDefined, a.normal, model.isEogToken(id)];
    const actual = [ours.isControl(id), ours.isByte(id), ours.isUnknown(id), ours.isUserDefined(id), ours.isNormal(id), ours.isEndOfGeneration(id)];
    if (JSON.stringify(actual) !== JSON.stringify(expected)) differences.push(`${id} ${JSON.stringify(ours.text(id))}: ours ${actual} llama.cpp ${expected}`);
  }
  assert.deepEqual(differences, [], 'control, byte, unknown, user-defined, normal, end-of-generation');
}
