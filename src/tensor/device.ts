// Which backend new tensors live on. The CPU backend is always there and is the default until
// `await useBackend(...)` picks another: 'webgpu' opens a GPU adapter (async), 'auto' takes WebGPU
// when a real (hardware) GPU adapter exists and the CPU otherwise (software WebGPU adapters are
// slower than the CPU kernels). The environment variable LLAMASCOPE_BACKEND (cpu | webgpu |
// webgpu:vulkan | webgpu:opengles | auto) decides what 'auto' means; an explicit name wins.
import type { Backend } from './backend';
import { CpuBackend, type CpuOptions } from '../backend/cpu';
import { openWebGPU, type WebGPUOptions, type DawnBackend } from '../backend/webgpu';

let current: Backend | null = null;

export function defaultBackend(): Backend {
  if (!current) {
    const wanted = process.env.LLAMASCOPE_BACKEND;
    if (wanted && !/^(cpu|auto)$/i.test(wanted)) {
      throw new Error(`LLAMASCOPE_BACKEND=${wanted} needs an adapter opened first: call \`await useBackend('auto')\` before creating tensors`);
    }
    current = new CpuBackend();
  }
  return current;
}

export function setDefaultBackend(backend: Backend): Backend {
  current = backend;
  return backend;
}

export type BackendName = 'cpu' | 'webgpu' | 'auto';

/**
 * Choose (and open) the default backend for new tensors; returns it (its `description` names the
 * adapter). 'auto' follows LLAMASCOPE_BACKEND when set, else prefers a hardware GPU. CPU options
 * (threads, kernels) apply wherever the CPU is chosen; WebGPU options where an adapter is opened.
 */
export async function useBackend(name: BackendName = 'auto', options: WebGPUOptions & CpuOptions = {}): Promise<Backend> {
  const cpu = (): CpuOptions => ({ threads: options.threads, kernels: options.kernels });
  let choice: string = name;
  let webgpuOptions = options;
  if (name === 'auto' && process.env.LLAMASCOPE_BACKEND) {
    const env = process.env.LLAMASCOPE_BACKEND.toLowerCase();
    const m = /^(cpu|auto|webgpu)(?::(vulkan|opengles|opengl|metal|d3d12|d3d11))?$/.exec(env);
    if (!m) throw new Error(`LLAMASCOPE_BACKEND=${env} is not one of cpu, auto, webgpu, webgpu:vulkan, webgpu:opengles, webgpu:metal, webgpu:d3d12`);
    choice = m[1];
    if (m[2]) webgpuOptions = { ...options, backend: m[2] as DawnBackend };
  }
  if (choice === 'cpu') return setDefaultBackend(new CpuBackend(cpu()));
  if (choice === 'webgpu') return setDefaultBackend(await openWebGPU(webgpuOptions));
  // auto: a hardware adapter, or the CPU.
  try {
    const gpu = await openWebGPU(webgpuOptions);
    if (!gpu.capabilities.software) return setDefaultBackend(gpu);
    gpu.destroy();
  } catch {
    // No adapter at all: the CPU it is.
  }
  return setDefaultBackend(new CpuBackend(cpu()));
}
