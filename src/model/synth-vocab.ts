// A made-up SentencePiece vocabulary of any size for synthetic models, laid out like LLaMA's:
// <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF>, then normal pieces with falling scores.
//
// llama.cpp's SPM tokenizer starts from single characters and repeatedly merges the adjacent pair
// whose concatenation is a piece with the highest score; whatever stays unknown falls back to byte
// tokens. So the pieces are built so that ordinary text merges: first every printable ASCII
// character and "▁" (SentencePiece's space), then "▁" + each letter, then lowercase strings of
// length 2, 3, ... each with and without a leading "▁". Every piece splits into two earlier
// pieces, so each is reachable by merges; within a length, strings of frequent English letters
// come first, so a small vocabulary still covers common text.

import { TokenType } from './tokenizer';

export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
/** Id of the first normal piece, after the three control tokens and the 256 byte tokens. */
export const FIRST_NORMAL_ID = 3 + 256;

export interface SyntheticVocabulary {
  tokens: string[];
  scores: Float32Array;
  tokenTypes: Int32Array;
}

const SPACE = '\u2581';
const LETTERS_BY_FREQUENCY = 'etaoinshrdlcumwfgypbvkjxqz';

export function syntheticVocabulary(nVocab: number): SyntheticVocabulary {
  if (!Number.isInteger(nVocab) || nVocab < FIRST_NORMAL_ID) {
    throw new Error(`a synthetic vocabulary needs at least ${FIRST_NORMAL_ID} tokens (3 control + 256 bytes), got ${nVocab}`);
  }
  const tokens = ['<unk>', '<s>', '</s>'];
  const tokenTypes = new Int32Array(nVocab);
  tokenTypes[UNK_ID] = TokenType.UNKNOWN;
  tokenTypes[BOS_ID] = TokenType.CONTROL;
  tokenTypes[EOS_ID] = TokenType.CONTROL;
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    tokenTypes[3 + b] = TokenType.BYTE;
  }
  const scores = new Float32Array(nVocab);
  for (const piece of normalPieces()) {
    if (tokens.length === nVocab) break;
    const id = tokens.length;
    tokens.push(piece);
    tokenTypes[id] = TokenType.NORMAL;
    scores[id] = -(id - FIRST_NORMAL_ID); // earlier pieces merge first, as in SentencePiece BPE
  }
  if (tokens.length < nVocab) throw new Error(`cannot make ${nVocab} distinct pieces; the generator ran out at ${tokens.length}`);
  return { tokens, scores, tokenTypes };
}

function* normalPieces(): Generator<string> {
  yield SPACE;
  for (let c = 0x21; c <= 0x7e; c++) yield String.fromCharCode(c);
  const upper = LETTERS_BY_FREQUENCY.toUpperCase();
  for (const letter of LETTERS_BY_FREQUENCY + upper) yield SPACE + letter;
  for (let length = 2; ; length++) {
    for (const word of lowercaseWords(length)) {
      yield SPACE + word;
      yield word;
    }
  }
}

/** Every lowercase string of `length` letters, the sum of the letters' frequency ranks rising. */
function* lowercaseWords(length: number): Generator<string> {
  const maxRank = LETTERS_BY_FREQUENCY.length - 1;
  const ranks = new Array<number>(length);
  function* withSum(position: number, remaining: number): Generator<string> {
    if (position === length - 1) {
      if (remaining <= maxRank) {
        ranks[position] = remaining;
        yield ranks.map((r) => LETTERS_BY_FREQUENCY[r]).join('');
      }
      return;
    }
    for (let r = 0; r <= Math.min(maxRank, remaining); r++) {
      ranks[position] = r;
      yield* withSum(position + 1, remaining - r);
    }
  }
  for (let sum = 0; sum <= maxRank * length; sum++) yield* withSum(0, sum);
}
