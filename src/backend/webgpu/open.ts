// Opening a WebGPU device through Dawn: which adapter, which features, which limits.
//
// Without options the default Dawn backend is asked for a high-performance adapter (a real GPU
// when there is one; on Linux without a GPU, Mesa's Vulkan lavapipe), and OpenGL ES in
// compatibility mode is tried when that gives nothing. Every limit the kernels depend on is
// requested at the adapter's value (devices otherwise get the defaults, e.g. 128 threads per
// workgroup in compatibility mode).
import { acquireDawn, releaseDawn } from './dawn';
import { describeAdapter, deviceCapabilities, wantedFeatures, wantedLimits, type FeatureSwitches } from './capabilities';
import { WebGPUBackend, type WebGPUBackendOptions } from './backend';

/** Dawn's backends (the `backend=` toggle). */
export type DawnBackend = 'vulkan' | 'opengles' | 'opengl' | 'metal' | 'd3d12' | 'd3d11';

export interface WebGPUOptions extends WebGPUBackendOptions {
  /** Which Dawn backend; default: Dawn's default, then OpenGL ES. */
  backend?: DawnBackend;
  powerPreference?: GPUPowerPreference;
  /** Default 'core', except 'compatibility' for OpenGL (ES), which offers nothing else. */
  featureLevel?: 'core' | 'compatibility';
  /** Switch off optional features even when present, to use (and test) the fallbacks. */
  features?: FeatureSwitches;
  /** Bind at most this many bytes at once (below maxStorageBufferBindingSize): tests exercise weight splitting with it. */
  maxBindingBytes?: number;
}

export async function openWebGPU(options: WebGPUOptions = {}): Promise<WebGPUBackend> {
  const attempts: { backend: DawnBackend | undefined; featureLevel: 'core' | 'compatibility' }[] = options.backend
    ? [{ backend: options.backend, featureLevel: options.featureLevel ?? (options.backend.startsWith('opengl') ? 'compatibility' : 'core') }]
    : [
        { backend: undefined, featureLevel: options.featureLevel ?? 'core' },
        { backend: 'opengles', featureLevel: 'compatibility' },
      ];
  const failures: string[] = [];
  for (const attempt of attempts) {
    const gpu = acquireDawn(attempt.backend ? [`backend=${attempt.backend}`] : []);
    try {
      const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance', featureLevel: attempt.featureLevel });
      if (!adapter) {
        failures.push(`${attempt.backend ?? 'default backend'} (${attempt.featureLevel}): no adapter`);
        releaseDawn(gpu);
        continue;
      }
      const featureLevel = adapter.features.has('core-features-and-limits') ? 'core' : 'compatibility';
      const device = await adapter.requestDevice({
        requiredFeatures: wantedFeatures(adapter, options.features ?? {}),
        requiredLimits: wantedLimits(adapter),
        label: 'llamascope',
      });
      const description = describeAdapter(adapter, attempt.backend ?? 'default backend', featureLevel);
      const caps = deviceCapabilities(device, adapter, gpu.wgslLanguageFeatures, description, featureLevel, options.features ?? {}, options.maxBindingBytes);
      return new WebGPUBackend(gpu, device, caps, options);
    } catch (e) {
      releaseDawn(gpu);
      failures.push(`${attempt.backend ?? 'default backend'}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new Error(
    `no WebGPU adapter (${failures.join('; ')}). Without a GPU on Linux, install Mesa's software drivers: ` +
      `Vulkan lavapipe from Mesa >= 24 (mesa-vulkan-drivers libvulkan1) or OpenGL ES on llvmpipe (libegl1 libegl-mesa0 libgl1-mesa-dri); ` +
      `or use the CPU backend`,
  );
}
