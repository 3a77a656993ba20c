// The backends every tensor-op test runs on. Each must agree with the float64 references.
// The WebGPU ones are the two software adapters of Mesa (see /work/shared/docs/TOOLCHAIN.md):
// Vulkan lavapipe at the core feature level exercises the fast paths (shader-f16, subgroups,
// dot4I8Packed); OpenGL ES on llvmpipe at the compatibility level has no f16 and no subgroups,
// so it exercises the fallbacks. Each is opened once for the whole mocha run (dawn.node must not
// be recreated and collected while devices live) with poisoned outputs, so an element a kernel
// forgets to write reads back as NaN and fails the comparison.
import type { Backend } from '../../src/tensor';
import { CpuBackend } from '../../src/backend/cpu';
import { openWebGPU, type WebGPUBackend, type WebGPUOptions } from '../../src/backend/webgpu';

export interface TestBackend {
  name: string;
  /** Resolves to the backend, or rejects with why it is unavailable here. */
  open(): Promise<Backend>;
}

const opened = new Map<string, Promise<WebGPUBackend>>();

/** A WebGPU backend shared by every test file that asks for the same options. */
export function sharedWebGPU(options: WebGPUOptions): Promise<WebGPUBackend> {
  const key = JSON.stringify(options);
  let p = opened.get(key);
  if (!p) {
    p = openWebGPU({ poison: true, ...options });
    opened.set(key, p);
  }
  return p;
}

// A root-level hook (this module is loaded by spec files): release the devices after the run.
after(async () => {
  for (const p of opened.values()) (await p.catch(() => null))?.destroy();
  opened.clear();
});

export const WEBGPU_VULKAN: WebGPUOptions = { backend: 'vulkan' };
export const WEBGPU_OPENGLES: WebGPUOptions = { backend: 'opengles' };

export const TEST_BACKENDS: TestBackend[] = [
  { name: 'cpu (WASM SIMD fast path, 2 threads)', open: async () => new CpuBackend({ kernels: 'wasm', threads: 2 }) },
  { name: 'cpu (TypeScript reference kernels)', open: async () => new CpuBackend({ kernels: 'reference' }) },
  { name: 'webgpu (Vulkan lavapipe, core: f16, subgroups, dot4I8Packed)', open: () => sharedWebGPU(WEBGPU_VULKAN) },
  { name: 'webgpu (OpenGL ES llvmpipe, compatibility: no f16, no subgroups)', open: () => sharedWebGPU(WEBGPU_OPENGLES) },
];
