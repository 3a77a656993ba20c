// Which backend new tensors live on. The CPU backend is always there; WebGPU is chosen with
// `useBackend('webgpu')` (async: it opens an adapter) or LLAMASCOPE_BACKEND=webgpu.
import type { Backend } from './backend';
import { CpuBackend } from '../backend/cpu';

let current: Backend | null = null;

export function defaultBackend(): Backend {
  if (!current) current = new CpuBackend();
  return current;
}

export function setDefaultBackend(backend: Backend): Backend {
  current = backend;
  return backend;
}
