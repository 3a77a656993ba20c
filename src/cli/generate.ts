import type { Command } from './command';
import { MODEL_FLAGS, loadModel, numericMode } from './model-options';
import { toJson, UsageError } from './format';
import { generate as run } from '../model/generate';

export const generate: Command = {
  summary: 'generate text from a prompt (greedy with --temp 0), streaming tokens',
  usage: 'llamascope generate FILE --prompt TEXT -n N [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--json] [--mode float|llama.cpp] [--backend cpu|webgpu]',
  positionals: 1,
  options: {
    prompt: { type: 'string' },
    n: { type: 'string', short: 'n' },
    temp: { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    'min-p': { type: 'string' },
    'repeat-penalty': { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    ...MODEL_FLAGS,
  },
  async run([path], flags) {
    if (typeof flags.prompt !== 'string') throw new UsageError('give --prompt TEXT');
    const num = (name: string, fallback?: number) => {
      const v = flags[name];
      if (v === undefined) return fallback;
      const x = Number(v);
      if (!Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got '${String(v)}'`);
      return x;
    };
    const maxTokens = num('n');
    if (maxTokens === undefined || !Number.isInteger(maxTokens) || maxTokens < 0) throw new UsageError('give -n N, the number of tokens to generate');
    const model = await loadModel(path, flags.backend, Boolean(flags.json));
    const result = await run(model, flags.prompt, {
      maxTokens,
      mode: numericMode(flags.mode),
      temperature: num('temp', 0.8),
      topK: num('top-k', 40),
      topP: num('top-p', 0.95),
      minP: num('min-p', 0.05),
      repeatPenalty: num('repeat-penalty', 1),
      seed: num('seed'),
      onToken: flags.json ? undefined : (_id, piece) => process.stdout.write(piece),
    });
    if (flags.json) {
      console.log(toJson({ promptTokens: result.promptTokens, tokens: result.tokens, text: result.text, stoppedBy: result.stoppedBy }));
    } else {
      process.stdout.write('\n');
    }
    return 0;
  },
};
