// The tokenizer of a GGUF file whose vocabulary is `tokenizer.ggml.model = "llama"` (SentencePiece
// BPE with scores and byte fallback: LLaMA 1/2, Mistral, TinyLlama, ...), reproducing llama.cpp's
// llama-vocab.cpp as bundled with node-llama-cpp 3.22 (our oracle): the same token ids for every
// string and the same bytes when detokenizing. Written from reading that source, not copied:
//
// - Loading (llama_vocab::impl::load): token types become attributes; llama.cpp then promotes
//   "control-looking" texts (<|im_end|>, <EOT>, FIM markers, ...) to CONTROL and collects the
//   end-of-generation set — see applyLlamaCppTokenFixes at the end of this file.
// - Encoding (impl::tokenize, SPM case): special tokens are cut out of the text first, longest text
//   first (tokenizer_st_partition; CONTROL/UNKNOWN ones only when parsing special tokens, user-defined
//   ones always). Each remaining text fragment gets a leading space when add_space_prefix is on and it
//   starts the text or follows a special token, spaces become U+2581 "▁", and the fragment is merged
//   from single code points by the highest-scoring adjacent pair that is a vocabulary entry
//   (llm_tokenizer_spm_session); a code point that never became a token falls back to its UTF-8
//   bytes as <0xXX> tokens.
// - Decoding (impl::detokenize with remove_special = false, as node-llama-cpp calls it): "▁" back to
//   a space, byte tokens to their byte, CONTROL/UNKNOWN tokens omitted unless rendered, and one
//   leading space dropped from the first token when add_space_prefix is on.

import type { GGUFFile } from '../gguf';
import { GGUFValueType } from '../gguf';
import {
  KEY_ADD_BOS,
  KEY_ADD_EOS,
  KEY_BOS_ID,
  KEY_EOS_ID,
  KEY_PAD_ID,
  KEY_SCORES,
  KEY_TOKENIZER_MODEL,
  KEY_TOKENS,
  KEY_TOKEN_TYPE,
  KEY_UNK_ID,
} from '../gguf/keys';

/** Token types as stored in `tokenizer.ggml.token_type` (llama.h `enum llama_token_type`). */
export enum TokenType {
  UNDEFINED = 0,
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

export interface EncodeOptions {
  /** Prepend BOS. Default: the file's `tokenizer.ggml.add_bos_token` (true for LLaMA vocabularies). */
  addBos?: boolean;
  /** Append EOS. Default: the file's `tokenizer.ggml.add_eos_token` (false for LLaMA vocabularies). */
  addEos?: boolean;
  /**
   * Turn control-token texts such as "<s>" inside the text into their tokens. Default false, like
   * node-llama-cpp's `model.tokenize(text)`: the text "<s>" is then spelled with ordinary pieces.
   * User-defined tokens are always recognised (llama.cpp does the same).
   */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Render control and unknown tokens (<s>, </s>, <unk>) as their text. Default false, like llama.cpp. */
  renderSpecial?: boolean;
}

// Token attributes, as llama.h's `enum llama_token_attr` bits: llama.cpp decides everything from
// these, and they can differ from the stored type after its load-time fixes.
const ATTR_UNKNOWN = 1 << 0;
const ATTR_UNUSED = 1 << 1;
const ATTR_NORMAL = 1 << 2;
const ATTR_CONTROL = 1 << 3;
const ATTR_USER_DEFINED = 1 << 4;
const ATTR_BYTE = 1 << 5;

const ATTR_OF_TYPE: Record<number, number> = {
  [TokenType.NORMAL]: ATTR_NORMAL,
  [TokenType.UNKNOWN]: ATTR_UNKNOWN,
  [TokenType.CONTROL]: ATTR_CONTROL,
  [TokenType.USER_DEFINED]: ATTR_USER_DEFINED,
  [TokenType.UNUSED]: ATTR_UNUSED,
  [TokenType.BYTE]: ATTR_BYTE,
};

/** Hidden when detokenizing unless special tokens are rendered. */
const ATTR_HIDDEN = ATTR_UNKNOWN | ATTR_CONTROL;
/** Cut out of the text before the merges. */
const ATTR_SPECIAL = ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED;

const KEY_ADD_SPACE_PREFIX = 'tokenizer.ggml.add_space_prefix';
const SPACE_MARK = '\u2581'; // "▁", SentencePiece's visible space

const SUPPORTED_MODELS = '"llama" (SentencePiece BPE with byte fallback: LLaMA 1/2, Mistral, TinyLlama, CodeLlama)';
const UNSUPPORTED_MODELS: Record<string, string> = {
  gpt2: 'byte-level BPE with merges, as in LLaMA 3, Qwen, GPT-2',
  bert: 'WordPiece',
  t5: 'SentencePiece Unigram',
  rwkv: 'the RWKV world tokenizer',
  plamo2: 'the PLaMo-2 tokenizer',
  no_vocab: 'no vocabulary at all',
  none: 'no vocabulary at all',
};

const utf8Encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the text, as llama.cpp's bytes have it.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export class Tokenizer {
  /** BOS/EOS/UNK/PAD ids (null when the vocabulary has none). */
  readonly bos: number | null;
  readonly eos: number | null;
  readonly unk: number | null;
  readonly pad: number | null;
  /** `tokenizer.ggml.add_bos_token` / `add_eos_token` (llama.cpp's defaults for SPM: true / false). */
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** `tokenizer.ggml.add_space_prefix` (default true for SPM): a space before the text, dropped again when decoding. */
  readonly addSpacePrefix: boolean;

  private readonly texts: readonly string[];
  private readonly scores: Float32Array;
  private readonly types: Int32Array;
  private readonly attrs: Uint16Array;
  private readonly idByText: Map<string, number>;
  /** Longest vocabulary entry in UTF-16 code units: longer pairs cannot be tokens. */
  private readonly maxTextLength: number;
  /** Token for each byte value (<0xXX>, else the one-character token), -1 if the vocabulary has none. */
  private readonly byteToken: Int32Array;
  /** Tokens cut out before merging, longest text first. */
  private readonly specialTokens: readonly number[];
  private readonly endOfGeneration: ReadonlySet<number>;
  private readonly pieceCache: (Uint8Array | undefined)[];

  private constructor(init: TokenizerInit) {
    this.texts = init.texts;
    this.scores = init.scores;
    this.types = init.types;
    this.attrs = init.attrs;
    this.idByText = init.idByText;
    this.bos = init.bos;
    this.eos = init.eos;
    this.unk = init.unk;
    this.pad = init.pad;
    this.addBos = init.addBos;
    this.addEos = init.addEos;
    this.addSpacePrefix = init.addSpacePrefix;
    this.endOfGeneration = init.endOfGeneration;
    this.maxTextLength = init.texts.reduce((m, t) => Math.max(m, t.length), 0);
    this.byteToken = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) {
      const id = init.idByText.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? (b > 0 && b < 0x80 ? init.idByText.get(String.fromCharCode(b)) : undefined);
      if (id !== undefined) this.byteToken[b] = id;
    }
    // A stable sort: llama.cpp's std::sort leaves equal lengths in no defined order (it matters only
    // for two special texts of equal length that overlap in the input).
    this.specialTokens = init.texts
      .map((_, id) => id)
      .filter((id) => (init.attrs[id] & ATTR_SPECIAL) !== 0)
      .sort((a, b) => utf8Length(init.texts[b]) - utf8Length(init.texts[a]));
    this.pieceCache = new Array(init.texts.length);
  }

  /** Read the vocabulary of a GGUF file; refuses tokenizer models other than "llama". */
  static fromGGUF(file: GGUFFile): Tokenizer {
    return new Tokenizer(readVocabulary(file));
  }

  get vocabSize(): number {
    return this.texts.length;
  }

  /** Token ids of `text`, exactly as llama.cpp's llama_tokenize gives them. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const addBos = options.addBos ?? this.addBos;
    const addEos = options.addEos ?? this.addEos;
    const out: number[] = [];
    if (addBos) out.push(this.requireSpecial(this.bos, 'BOS', 'addBos: false'));
    // llama.cpp receives the text as UTF-8 from node-llama-cpp, which turns lone surrogates into U+FFFD.
    const wellFormed = text.replace(LONE_SURROGATE, '\uFFFD');
    let previousWasSpecial = true;
    for (const fragment of this.splitSpecial(wellFormed, options.parseSpecial ?? false)) {
      if (typeof fragment === 'number') {
        out.push(fragment);
        previousWasSpecial = true;
      } else {
        const spaced = this.addSpacePrefix && previousWasSpecial ? ' ' + fragment : fragment;
        this.mergePieces(spaced.replaceAll(' ', SPACE_MARK), out);
        previousWasSpecial = false;
      }
    }
    if (addEos) out.push(this.requireSpecial(this.eos, 'EOS', 'addEos: false'));
    return out;
  }

  /** Text of token ids as llama.cpp's llama_detokenize gives it (invalid UTF-8 becomes U+FFFD). */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return utf8Decoder.decode(this.decodeBytes(ids, options));
  }

  /** The exact bytes llama.cpp's llama_detokenize writes (byte tokens may leave UTF-8 incomplete). */
  decodeBytes(ids: ArrayLike<number>, options: DecodeOptions = {}): Uint8Array {
    const renderSpecial = options.renderSpecial ?? false;
    const attrs = this.attrs;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      this.checkId(id);
      if (!renderSpecial && (attrs[id] & ATTR_HIDDEN) !== 0) continue;
      let piece = this.pieceBytes(id);
      // Only the first token loses its space, even when that token renders as nothing (BOS).
      if (i === 0 && this.addSpacePrefix && piece[0] === 0x20) piece = piece.subarray(1);
      parts.push(piece);
      total += piece.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /**
   * One token as llama.cpp's token_to_piece renders it with special tokens shown: "▁" as a space,
   * a byte token as its byte (U+FFFD when that byte is not a whole character), control tokens as text.
   */
  piece(id: number): string {
    return utf8Decoder.decode(this.pieceBytes(id));
  }

  /** The bytes of piece(id), exact even for byte tokens. */
  pieceBytes(id: number): Uint8Array {
    this.checkId(id);
    let piece = this.pieceCache[id];
    if (!piece) {
      piece = this.renderPiece(id);
      this.pieceCache[id] = piece;
    }
    return piece;
  }

  /** The vocabulary entry as stored in the file, e.g. "▁Once" or "<0x0A>". */
  text(id: number): string {
    this.checkId(id);
    return this.texts[id];
  }

  /** The id of a vocabulary entry (its stored text, e.g. "▁the"), or undefined. */
  idOf(text: string): number | undefined {
    return this.idByText.get(text);
  }

  score(id: number): number {
    this.checkId(id);
    return this.scores[id];
  }

  /** The type stored in the file (llama.cpp may treat a token as control regardless: see isControl). */
  tokenType(id: number): TokenType {
    this.checkId(id);
    return this.types[id];
  }

  /** Control token as llama.cpp treats it (stored CONTROL, or promoted for a control-looking text). */
  isControl(id: number): boolean {
    return this.hasAttr(id, ATTR_CONTROL);
  }

  isByte(id: number): boolean {
    return this.hasAttr(id, ATTR_BYTE);
  }

  isUnknown(id: number): boolean {
    return this.hasAttr(id, ATTR_UNKNOWN);
  }

  isUserDefined(id: number): boolean {
    return this.hasAttr(id, ATTR_USER_DEFINED);
  }

  isNormal(id: number): boolean {
    return this.hasAttr(id, ATTR_NORMAL);
  }

  /** Control, unknown or user-defined: recognised in text before merging, not built from pieces. */
  isSpecial(id: number): boolean {
    return this.hasAttr(id, ATTR_SPECIAL);
  }

  /** Ends generation in llama.cpp (EOS, EOT, and end-of-turn texts such as "<|im_end|>"). */
  isEndOfGeneration(id: number): boolean {
    return this.endOfGeneration.has(id);
  }

  private hasAttr(id: number, attr: number): boolean {
    this.checkId(id);
    return (this.attrs[id] & attr) !== 0;
  }

  private checkId(id: number): void {
    if (!(Number.isInteger(id) && id >= 0 && id < this.texts.length)) {
      throw new RangeError(`token id ${id} is outside the vocabulary (ids 0..${this.texts.length - 1})`);
    }
  }

  private requireSpecial(id: number | null, name: string, instead: string): number {
    if (id === null) throw new Error(`this vocabulary has no ${name} token; encode with ${instead}`);
    return id;
  }

  /** The text cut into raw fragments (strings) and special tokens (ids), in order. */
  private splitSpecial(text: string, parseSpecial: boolean): (string | number)[] {
    let fragments: (string | number)[] = text === '' ? [] : [text];
    for (const id of this.specialTokens) {
      if (!parseSpecial && (this.attrs[id] & ATTR_HIDDEN) !== 0) continue;
      const special = this.texts[id];
      const next: (string | number)[] = [];
      for (const fragment of fragments) {
        if (typeof fragment === 'number') {
          next.push(fragment);
          continue;
        }
        let from = 0;
        for (let at = fragment.indexOf(special); at >= 0; at = fragment.indexOf(special, from)) {
          if (at > from) next.push(fragment.slice(from, at));
          next.push(id);
          from = at + special.length;
        }
        if (from < fragment.length) next.push(from === 0 ? fragment : fragment.slice(from));
      }
      fragments = next;
    }
    return fragments;
  }

  /**
   * SentencePiece BPE over one fragment (spaces already "▁"): start from single code points and
   * repeatedly merge the adjacent pair whose concatenation is the best-scoring vocabulary entry,
   * the leftmost pair on equal scores; then emit each symbol's token, or its UTF-8 bytes.
   */
  private mergePieces(s: string, out: number[]): void {
    // Symbols: one per code point, as a doubly linked list over [start, start + length) of s.
    const n = s.length;
    const start = new Int32Array(n);
    const length = new Int32Array(n);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    let count = 0;
    for (let i = 0; i < n; count++) {
      const c = s.charCodeAt(i);
      const width = c >= 0xd800 && c < 0xdc00 ? 2 : 1; // s is well formed: a high surrogate has its pair
      start[count] = i;
      length[count] = width;
      prev[count] = count - 1;
      next[count] = count + 1;
      i += width;
    }
    if (count === 0) return;
    next[count - 1] = -1;

    const queue = new PairQueue(3 * count);
    const idByText = this.idByText;
    const scores = this.scores;
    const maxTextLength = this.maxTextLength;
    const tryPair = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const size = length[left] + length[right];
      if (size > maxTextLength) return;
      const id = idByText.get(s.substr(start[left], size));
      if (id !== undefined) queue.push(left, right, scores[id], size);
    };
    for (let i = 1; i < count; i++) tryPair(i - 1, i);
    while (queue.size > 0) {
      const { left, right, size } = queue.pop();
      // Stale pair: one side was merged away or grew since it was queued.
      if (length[left] === 0 || length[right] === 0 || length[left] + length[right] !== size) continue;
      length[left] = size;
      length[right] = 0;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      tryPair(prev[left], left);
      tryPair(left, next[left]);
    }

    // Every merged symbol is a vocabulary entry (a pair is queued only then); a single code point
    // may not be one, and falls back to bytes. (llama.cpp's rev_merge re-split is unreachable here.)
    for (let i = 0; i >= 0; i = next[i]) {
      const piece = s.substr(start[i], length[i]);
      const id = idByText.get(piece);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      for (const byte of utf8Encoder.encode(piece)) {
        const byteId = this.byteToken[byte];
        if (byteId < 0) {
          throw new Error(
            `cannot encode ${JSON.stringify(piece)}: it is not in the vocabulary and the vocabulary has no byte token ` +
              `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}> to fall back to (llama.cpp fails on this text too)`,
          );
        }
        out.push(byteId);
      }
    }
  }

  /** llama.cpp's token_to_piece with special = true, for SPM vocabularies. */
  private renderPiece(id: number): Uint8Array {
    const attr = this.attrs[id];
    const text = this.texts[id];
    if (attr & ATTR_SPECIAL) return utf8Encoder.encode(text);
    if (attr & ATTR_NORMAL) return utf8Encoder.encode(text.replaceAll(SPACE_MARK, ' '));
    if (attr & ATTR_BYTE) {
      // The byte is the hex number at characters 3..4 of "<0xXX>" (llama.cpp reads it with strtol).
      return Uint8Array.of((parseInt(text.slice(3, 5), 16) || 0) & 0xff);
    }
    return new Uint8Array(0); // UNUSED and UNDEFINED tokens render as nothing
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Length in UTF-8 bytes: llama.cpp orders special tokens by the byte length of their text. */
function utf8Length(s: string): number {
  return utf8Encoder.encode(s).length;
}

/**
 * Max-heap of candidate merges: best score first, then the leftmost (llama.cpp's llm_bigram_spm
 * comparator). Stored in typed arrays: a 100 KB fragment queues hundreds of thousands of pairs.
 */
class PairQueue {
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly sizes: Int32Array;
  private readonly scores: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.lefts = new Int32Array(capacity);
    this.rights = new Int32Array(capacity);
    this.sizes = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  private before(a: number, b: number): boolean {
    const sa = this.scores[a];
    const sb = this.scores[b];
    return sa > sb || (sa === sb && this.lefts[a] < this.lefts[b]);
  }

  private swap(a: number, b: number): void {
    const { lefts, rights, sizes, scores } = this;
    let t = lefts[a]; lefts[a] = lefts[b]; lefts[b] = t;
    t = rights[a]; rights[a] = rights[b]; rights[b] = t;
    t = sizes[a]; sizes[a] = sizes[b]; sizes[b] = t;
    const s = scores[a]; scores[a] = scores[b]; scores[b] = s;
  }

  push(left: number, right: number, score: number, size: number): void {
    let i = this.size++;
    this.lefts[i] = left;
    this.rights[i] = right;
    this.scores[i] = score;
    this.sizes[i] = size;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { left: number; right: number; size: number } {
    const top = { left: this.lefts[0], right: this.rights[0], size: this.sizes[0] };
    const last = --this.size;
    if (last > 0) {
      this.swap(0, last);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < last && this.before(l, best)) best = l;
        if (r < last && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

interface TokenizerInit {
  texts: string[];
  scores: Float32Array;
  types: Int32Array;
  attrs: Uint16Array;
  idByText: Map<string, number>;
  bos: number | null;
  eos: number | null;
  unk: number | null;
  pad: number | null;
  addBos: boolean;
  addEos: boolean;
  addSpacePrefix: boolean;
  endOfGeneration: Set<number>;
}

function readVocabulary(file: GGUFFile): TokenizerInit {
  const where = file.path;
  const model = file.get(KEY_TOKENIZER_MODEL);
  if (model === undefined) {
    throw new Error(`${where} has no ${KEY_TOKENIZER_MODEL}, so it carries no tokenizer; llamascope supports ${SUPPORTED_MODELS}`);
  }
  if (model !== 'llama') {
    const what = UNSUPPORTED_MODELS[String(model)];
    throw new Error(
      `${where}: ${KEY_TOKENIZER_MODEL} is ${JSON.stringify(model)}${what ? ` (${what})` : ''}, which llamascope does not support yet; ` +
        `it supports ${SUPPORTED_MODELS}`,
    );
  }

  const rawTexts = file.get(KEY_TOKENS);
  if (!Array.isArray(rawTexts) || rawTexts.some((t) => typeof t !== 'string')) {
    throw new Error(`${where}: ${KEY_TOKENS} must be an array of strings (the vocabulary); it is ${describe(file, KEY_TOKENS)}`);
  }
  const n = rawTexts.length;
  // llama.cpp renames empty entries so that every text stays unique.
  const texts = (rawTexts as string[]).map((t, id) => (t === '' ? `[EMPTY_${id}]` : t));
  const idByText = new Map<string, number>();
  texts.forEach((t, id) => {
    const earlier = idByText.get(t);
    if (earlier !== undefined) {
      throw new Error(`${where}: the vocabulary has ${JSON.stringify(t)} twice (ids ${earlier} and ${id}); llama.cpp refuses such a file too`);
    }
    idByText.set(t, id);
  });

  const scores = new Float32Array(n); // absent: all 0, as in llama.cpp
  const storedScores = numericArray(file, KEY_SCORES, [GGUFValueType.FLOAT32, GGUFValueType.INT32], n);
  if (storedScores) scores.set(storedScores.subarray(0, n));
  const types = new Int32Array(n).fill(TokenType.NORMAL); // absent: all normal
  const storedTypes = numericArray(file, KEY_TOKEN_TYPE, [GGUFValueType.INT32], n);
  if (storedTypes) types.set(storedTypes.subarray(0, n));
  const attrs = Uint16Array.from(types, (t) => ATTR_OF_TYPE[t] ?? 0);

  // llama.cpp's SPM defaults: BOS 1, EOS 2, UNK 0 (disabled if outside the vocabulary); an id in
  // the file replaces the default only when it is inside the vocabulary.
  const specialId = (key: string, fallback: number | null): number | null => {
    let id = fallback !== null && fallback < n ? fallback : null;
    const stored = file.get(key);
    if (typeof stored === 'number' || typeof stored === 'bigint') {
      const v = Number(stored);
      if (Number.isInteger(v) && v >= 0 && v < n) id = v;
    }
    return id;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const v = file.get(key);
    return typeof v === 'boolean' ? v : fallback;
  };

  const ids = {
    bos: specialId(KEY_BOS_ID, 1),
    eos: specialId(KEY_EOS_ID, 2),
    unk: specialId(KEY_UNK_ID, 0),
    pad: specialId(KEY_PAD_ID, null),
  };
  const endOfGeneration = applyLlamaCppTokenFixes(texts, attrs, idByText, ids.eos, (role) => specialId(`tokenizer.ggml.${role}_token_id`, null));
  return {
    texts,
    scores,
    types,
    attrs,
    idByText,
    ...ids,
    addBos: flag(KEY_ADD_BOS, true),
    addEos: flag(KEY_ADD_EOS, false),
    addSpacePrefix: flag(KEY_ADD_SPACE_PREFIX, true),
    endOfGeneration,
  };
}

function numericArray(file: GGUFFile, key: string, allowed: GGUFValueType[], n: number): Int32Array | Float32Array | undefined {
  const value = file.metadata.get(key);
  if (value === undefined) return undefined;
  const arr = value.value;
  if (typeof arr !== 'object' || !('items' in arr) || !allowed.includes(arr.itemType) || !(arr.items instanceof Int32Array || arr.items instanceof Float32Array)) {
    const names = allowed.map((t) => GGUFValueType[t].toLowerCase()).join(' or ');
    throw new Error(`${file.path}: ${key} must be an array of ${names}; it is ${describe(file, key)}`);
  }
  if (arr.items.length < n) {
    throw new Error(`${file.path}: ${key} has ${arr.items.length} entries for ${n} tokens; the file is inconsistent (re-convert the model)`);
  }
  return arr.items;
}

function describe(file: GGUFFile, key: string): string {
  const v = file.metadata.get(key);
  if (v === undefined) return 'missing';
  if (typeof v.value === 'object' && 'items' in v.value) return `an array of ${GGUFValueType[v.value.itemType]?.toLowerCase() ?? v.value.itemType}`;
  return `a ${GGUFValueType[v.type]?.toLowerCase() ?? v.type}`;
}

// --- llama.cpp's load-time token fixes (llama_vocab::impl::load, "auto-detect special tokens by text")
// GGUF conversions often store chat and fill-in-the-middle markers as normal or user-defined
// tokens; llama.cpp recognises them by their text and makes them CONTROL, which changes both how
// text containing them is tokenized and whether they are printed. The lists are those of the
// llama.cpp bundled with node-llama-cpp 3.22.

/** Roles found by text when the file names no id for them: the first token with one of the texts. */
const ROLE_TEXTS: [role: string[], texts: string[]][] = [
  [['eot'], ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>', '<EOT>', '_<EOT>', '[EOT]', '<｜end▁of▁sentence｜>', '<end_of_utterance>']],
  [['eom'], ['<|eom_id|>']],
  [['fim_pre', 'prefix'], ['<|fim_prefix|>', '<fim-prefix>', '<fim_prefix>', '<｜fim▁begin｜>', '<PRE>', '▁<PRE>', '<|code_prefix|>', '<|prefix|>']],
  [['fim_suf', 'suffix'], ['<|fim_suffix|>', '<fim-suffix>', '<fim_suffix>', '<｜fim▁hole｜>', '<SUF>', '▁<SUF>', '<|code_suffix|>', '<|suffix|>']],
  [['fim_mid', 'middle'], ['<|fim_middle|>', '<fim-middle>', '<fim_middle>', '<｜fim▁end｜>', '<MID>', '▁<MID>', '<|code_middle|>', '<|middle|>']],
  [['fim_pad'], ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '[PAD]']],
  [['fim_rep'], ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>']],
  [['fim_sep'], ['<|file_sep|>']],
];

/** Every token with one of these texts ends generation and becomes CONTROL. */
const END_OF_GENERATION_TEXTS = [
  '<|eot_id|>', '<|im_end|>', '<|end|>', '<|return|>', '<|call|>', '<|flush|>', '<|calls|>', '<end_of_turn>', '<|endoftext|>',
  '</s>', '<|eom_id|>', '<EOT>', '_<EOT>', '[EOT]', '[EOS]', '<|end_of_text|>', '<end_of_utterance>', '<eos>', '<turn|>',
  '<|tool_response>', '<｜end▁of▁sentence｜>', '[e~[',
];

/** Always printed (gpt-oss): their attributes become exactly USER_DEFINED. */
const ALWAYS_RENDERED_TEXTS = ['<|channel|>', '<|message|>', '<|start|>', '<|constrain|>'];

/**
 * Promote control-looking tokens in `attrs` as llama.cpp does and return the end-of-generation set.
 * One difference: when several tokens carry texts of the same role, llama.cpp takes the first its
 * hash map yields (not reproducible); we take the lowest id.
 */
function applyLlamaCppTokenFixes(
  texts: readonly string[],
  attrs: Uint16Array,
  idByText: ReadonlyMap<string, number>,
  eos: number | null,
  storedRoleId: (role: string) => number | null,
): Set<number> {
  const roleIds = new Map<string, number | null>();
  for (const [keys, candidates] of ROLE_TEXTS) {
    // The deprecated keys (prefix/suffix/middle) are read after the current ones and win.
    let id = keys.map(storedRoleId).reduce<number | null>((found, v) => v ?? found, null);
    if (id === null) {
      const matches = candidates.map((t) => idByText.get(t)).filter((x): x is number => x !== undefined);
      if (matches.length > 0) {
        id = Math.min(...matches);
        attrs[id] |= ATTR_CONTROL;
      }
    }
    roleIds.set(keys[0], id);
  }

  const eog = new Set<number>();
  for (const role of ['fim_pad', 'fim_rep', 'fim_sep']) {
    const id = roleIds.get(role);
    if (id !== null && id !== undefined) eog.add(id);
  }
  for (const t of END_OF_GENERATION_TEXTS) {
    const id = idByText.get(t);
    if (id === undefined) continue;
    eog.add(id);
    attrs[id] |= ATTR_CONTROL;
  }
  for (const t of ALWAYS_RENDERED_TEXTS) {
    const id = idByText.get(t);
    if (id !== undefined) attrs[id] = ATTR_USER_DEFINED;
  }
  for (const id of [eos, roleIds.get('eot'), roleIds.get('eom')]) {
    if (id !== null && id !== undefined) eog.add(id);
  }

  // With gpt-oss's <|return|>/<|call|> (or solar-open's <|calls|>/<|flush|>), "<|end|>" is not an end.
  const eogText = new Set([...eog].map((id) => texts[id]));
  const hasCall = eogText.has('<|call|>') || eogText.has('<|calls|>');
  if (eogText.has('<|end|>') && hasCall && (eogText.has('<|return|>') || eogText.has('<|flush|>'))) {
    const end = idByText.get('<|end|>')!;
    eog.delete(end);
    attrs[end] = ATTR_USER_DEFINED;
  }
  // With "<|tool_response>" (Gemma 4, PaddleOCR), "</s>" is ordinary text.
  if (eogText.has('<|tool_response>') && eogText.has('</s>')) {
    const s = idByText.get('</s>')!;
    eog.delete(s);
    attrs[s] = ATTR_NORMAL;
  }
  return eog;
}
