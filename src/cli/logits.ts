import type { Command } from './command';
import { MODEL_FLAGS, loadModel, numericMode } from './model-options';
import { float32Json, toJson, UsageError } from './format';
import { argmax } from '../model/sampler';

export const logits: Command = {
  summary: "last-position logits over the whole vocabulary (prompt tokenized with BOS as llama.cpp does)",
  usage: 'llamascope logits FILE --prompt TEXT [--json] [--mode float|llama.cpp] [--backend cpu|webgpu]',
  positionals: 1,
  options: { prompt: { type: 'string' }, json: { type: 'boolean' }, ...MODEL_FLAGS },
  async run([path], flags) {
    if (typeof flags.prompt !== 'string') throw new UsageError('give --prompt TEXT');
    const mode = numericMode(flags.mode);
    const model = await loadModel(path, flags.backend, Boolean(flags.json));
    const tokens = model.tokenizer.encode(flags.prompt);
    const values = (await model.forward(tokens, { mode, logits: 'last' }).data()) as Float32Array;
    const top = Array.from(values.keys()).sort((a, b) => values[b] - values[a]).slice(0, 10);
    if (flags.json) {
      console.log(toJson({ tokens, mode, logits: Array.from(values, float32Json), top10: top }));
      return 0;
    }
    console.log(`prompt tokens: ${tokens.join(' ')}  (${mode} mode, ${model.backend.description})`);
    console.log(`argmax ${argmax(values)} ${JSON.stringify(model.tokenizer.piece(argmax(values)))}`);
    for (const id of top) console.log(`${String(id).padStart(6)}  ${values[id].toFixed(4).padStart(10)}  ${JSON.stringify(model.tokenizer.piece(id))}`);
    return 0;
  },
};
