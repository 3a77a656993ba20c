// Flags shared by the commands that run a model: --mode, --backend, and loading with progress.
import { LlamaModel, type NumericMode } from '../model/llama';
import type { Backend } from '../tensor';
import { CpuBackend } from '../backend/cpu';
import { UsageError } from './format';

export const MODEL_FLAGS = {
  mode: { type: 'string' },
  backend: { type: 'string' },
} as const;

export function numericMode(flag: unknown): NumericMode {
  if (flag === undefined || flag === 'float' || flag === 'llama.cpp') return (flag ?? 'float') as NumericMode;
  throw new UsageError(`--mode must be float or llama.cpp, got '${String(flag)}'`);
}

export async function backendFor(flag: unknown): Promise<Backend> {
  if (flag === undefined || flag === 'cpu') return new CpuBackend();
  if (flag === 'webgpu') {
    // Loaded on demand: the Dawn addon is large and most runs do not need it.
    const webgpu = require('../backend/webgpu') as typeof import('../backend/webgpu');
    return webgpu.openWebGPU();
  }
  throw new UsageError(`--backend must be cpu or webgpu, got '${String(flag)}'`);
}

/** Load a model, reporting progress on stderr. */
export async function loadModel(path: string, backendFlag: unknown, quiet = false): Promise<LlamaModel> {
  const backend = await backendFor(backendFlag);
  const model = await LlamaModel.load(path, {
    backend,
    onProgress: (done, total) => {
      if (!quiet && process.stderr.isTTY) process.stderr.write(`\rloading ${done}/${total} tensors`);
    },
  });
  if (!quiet && process.stderr.isTTY) process.stderr.write(`\r${' '.repeat(40)}\r`);
  return model;
}
