import { openGGUF } from '../gguf';
import { Tokenizer, TokenType } from '../model/tokenizer';
import type { Command } from './command';
import { table, toJson } from './format';

export const tokenize: Command = {
  summary: "token ids of TEXT with the file's vocabulary, as llama.cpp tokenizes a prompt (BOS added if the file asks)",
  usage: 'llamascope tokenize FILE TEXT [--json] [--no-bos] [--parse-special]',
  positionals: 2,
  options: { json: { type: 'boolean' }, 'no-bos': { type: 'boolean' }, 'parse-special': { type: 'boolean' } },
  run([path, text], flags) {
    const file = openGGUF(path);
    try {
      const tokenizer = Tokenizer.fromGGUF(file);
      // --no-bos: raw tokenization, like node-llama-cpp's model.tokenize (no BOS, no EOS).
      const raw = Boolean(flags['no-bos']);
      const ids = tokenizer.encode(text, { addBos: !raw, addEos: raw ? false : undefined, parseSpecial: Boolean(flags['parse-special']) });
      // A byte token's piece is a single byte, often not a character by itself: show its <0xXX> text.
      const shown = ids.map((id) => (tokenizer.isByte(id) && tokenizer.pieceBytes(id)[0] >= 0x80 ? tokenizer.text(id) : tokenizer.piece(id)));
      if (flags.json) {
        console.log(toJson({ tokens: ids, pieces: shown }));
        return 0;
      }
      console.log(`${ids.length} tokens`);
      console.log(table(['id', 'piece', 'type'], ids.map((id, i) => [id, JSON.stringify(shown[i]), TokenType[tokenizer.tokenType(id)]])));
      return 0;
    } finally {
      file.close();
    }
  },
};
