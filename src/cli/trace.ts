import type { Command } from './command';
import { MODEL_FLAGS, loadModel, numericMode } from './model-options';
import { UsageError } from './format';
import { hookPoints, matchHooks } from '../model/hooks';
import { writeArrow } from '../notebook/arrow';

export const trace: Command = {
  summary: 'run a prompt and save the activations at the chosen hook points as an Arrow IPC file',
  usage: 'llamascope trace FILE --prompt TEXT --out FILE.arrow [--hooks GLOB] [--mode float|llama.cpp] [--backend cpu|webgpu]',
  positionals: 1,
  options: { prompt: { type: 'string' }, out: { type: 'string' }, hooks: { type: 'string' }, ...MODEL_FLAGS },
  async run([path], flags) {
    if (typeof flags.prompt !== 'string' || typeof flags.out !== 'string') throw new UsageError('give --prompt TEXT and --out FILE.arrow');
    const model = await loadModel(path, flags.backend);
    const all = hookPoints(model.hparams.blockCount);
    const names = matchHooks(all.map((h) => h.name), typeof flags.hooks === 'string' ? flags.hooks : '**');
    if (names.length === 0) throw new UsageError(`--hooks '${String(flags.hooks)}' matches no hook point; e.g. 'blocks.*.hook_resid_post' or 'blocks.0.attn.*'`);
    const tokens = model.tokenizer.encode(flags.prompt);
    const { cache } = await model.runWithCache(tokens, { mode: numericMode(flags.mode), names });
    const rows = await Promise.all(names.map(async (n) => ({ name: n, shape: Int32Array.from(cache.get(n)!.shape), values: (await cache.get(n)!.data()) as Float32Array })));
    const byName = new Map(all.map((h) => [h.name, h]));
    writeArrow(flags.out, {
      hook: rows.map((r) => r.name),
      llama_cpp: rows.map((r) => byName.get(r.name)?.llamaCpp ?? ''),
      shape: rows.map((r) => r.shape),
      values: rows.map((r) => r.values),
    });
    console.log(`${flags.out}: ${rows.length} hook points for ${tokens.length} tokens`);
    return 0;
  },
};
