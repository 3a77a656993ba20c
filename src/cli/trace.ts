import type { Command } from './command';
import { MODEL_FLAGS, loadModel, numericMode } from './model-options';
import { UsageError } from './format';
import { hookPoints, matchHooks } from '../model/hooks';
import { captureTrace, traceTable } from '../inspect/trace';
import { writeArrow } from '../notebook/arrow';

export const trace: Command = {
  summary: 'run a prompt and save the activations at the chosen hook points as an Arrow IPC file',
  usage: 'llamascope trace FILE --prompt TEXT --out FILE.arrow [--hooks GLOB] [--mode float|llama.cpp] [--backend cpu|webgpu]',
  positionals: 1,
  options: { prompt: { type: 'string' }, out: { type: 'string' }, hooks: { type: 'string' }, ...MODEL_FLAGS },
  async run([path], flags) {
    if (typeof flags.prompt !== 'string' || typeof flags.out !== 'string') throw new UsageError('give --prompt TEXT and --out FILE.arrow');
    const model = await loadModel(path, flags.backend);
    const names = matchHooks(hookPoints(model.hparams.blockCount).map((h) => h.name), typeof flags.hooks === 'string' ? flags.hooks : '**');
    if (names.length === 0) throw new UsageError(`--hooks '${String(flags.hooks)}' matches no hook point; e.g. 'blocks.*.hook_resid_post' or 'blocks.0.attn.*'`);
    const tokens = model.tokenizer.encode(flags.prompt);
    const traced = await captureTrace(model, tokens, { mode: numericMode(flags.mode), names });
    writeArrow(flags.out, traceTable(traced));
    console.log(`${flags.out}: ${traced.hooks.size} hook points for ${tokens.length} tokens`);
    return 0;
  },
};
