// The WebGPU backend: WGSL kernels through Dawn (the `webgpu` package).
export { openWebGPU, type WebGPUOptions, type DawnBackend } from './open';
export { WebGPUBackend, type WebGPUBackendOptions } from './backend';
export type { Capabilities, FeatureSwitches } from './capabilities';
