// Run by test/synth.test.ts in a fresh process: how far resident memory rises above its level
// before the work, for `synth` (synthesize a model) or `control` (hold the model as float32, which
// is what synthesis must never do; it shows the measurement sees such a rise).
// Usage: node --import tsx synth-memory-child.ts synth|control OUT.gguf SHAPE_JSON
// Prints JSON: { startRss, peakRss, f32Bytes } in bytes.

import * as fs from 'node:fs';
import { synthesizeModel } from '../../src/model/synth';
import type { LlamaShape } from '../../src/model/shapes';

/** VmRSS (current) or VmHWM (peak) of this process. getrusage's maxRSS is no use here: Linux keeps it across exec. */
function residentBytes(field: 'VmRSS' | 'VmHWM'): number {
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!kib) throw new Error(`no ${field} in /proc/self/status`);
  return Number(kib[1]) * 1024;
}

const [mode, out, shapeJson] = process.argv.slice(2);
const shape = JSON.parse(shapeJson) as LlamaShape;
const nEmbdKV = (shape.nEmbd / shape.nHead) * shape.nHeadKV;
const perLayer = 2 * shape.nEmbd * shape.nEmbd + 2 * shape.nEmbd * nEmbdKV + 3 * shape.nEmbd * shape.nFF + 2 * shape.nEmbd;
const f32Bytes = 4 * (shape.nVocab * shape.nEmbd * (shape.tiedOutput ? 1 : 2) + shape.nEmbd + shape.nLayer * perLayer);

const startRss = residentBytes('VmRSS');
if (mode === 'synth') {
  synthesizeModel(out, shape, { type: 'Q4_0', seed: 5 });
} else if (mode === 'control') {
  const model = new Float32Array(f32Bytes / 4);
  for (let i = 0; i < model.length; i += 1024) model[i] = i; // touch every page
} else {
  throw new Error(`mode must be synth or control, got '${mode}'`);
}
console.log(JSON.stringify({ startRss, peakRss: residentBytes('VmHWM'), f32Bytes }));
