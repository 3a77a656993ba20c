// The WebGPU backend: WGSL kernels through Dawn (the `webgpu` package).
export { openWebGPU, type WebGPUOptions, type DawnBackend } from './open';
export { WebGPUBackend, type WebGPUBackendOptions, type WebGPUStats } from './backend';
export type { Capabilities, FeatureSwitches } from './capabilities';
