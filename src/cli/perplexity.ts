import * as fs from 'node:fs';
import type { Command } from './command';
import { MODEL_FLAGS, loadModel, numericMode } from './model-options';
import { toJson, UsageError } from './format';
import { perplexity as run } from '../model/perplexity';

export const perplexity: Command = {
  summary: "perplexity of a text file, computed exactly as llama-perplexity does",
  usage: 'llamascope perplexity FILE TEXTFILE --ctx N [--chunks K] [--json] [--mode float|llama.cpp] [--backend cpu|webgpu]',
  positionals: 2,
  options: { ctx: { type: 'string' }, chunks: { type: 'string' }, json: { type: 'boolean' }, ...MODEL_FLAGS },
  async run([path, textFile], flags) {
    const nCtx = Number(flags.ctx);
    if (!Number.isInteger(nCtx) || nCtx < 2) throw new UsageError('give --ctx N (tokens per chunk, at least 2)');
    const chunks = flags.chunks === undefined ? undefined : Number(flags.chunks);
    if (chunks !== undefined && !Number.isInteger(chunks)) throw new UsageError('--chunks must be a whole number');
    const model = await loadModel(path, flags.backend, Boolean(flags.json));
    const r = await run(model, fs.readFileSync(textFile, 'utf8'), {
      nCtx,
      chunks,
      mode: numericMode(flags.mode),
      onChunk: flags.json ? undefined : (c, total, ppl) => process.stderr.write(`[${c}/${total}] ${ppl.toFixed(4)}\n`),
    });
    if (flags.json) console.log(toJson(r));
    else console.log(`Final estimate: PPL = ${r.ppl.toFixed(4)} +/- ${r.plusMinus.toFixed(5)}  (${r.chunks} chunks of ${nCtx}, ${r.tokensScored} tokens scored)`);
    return 0;
  },
};
