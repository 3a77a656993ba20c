// What the device can do, decided once when it is opened: optional features the kernels use when
// present (each can be switched off to exercise its fallback), and the limits they must respect.

export interface FeatureSwitches {
  /** shader-f16: F16 weights read as native f16 vectors. */
  f16?: boolean;
  /** subgroups: workgroup reductions through subgroupAdd/Max/Min instead of shared-memory trees. */
  subgroups?: boolean;
  /** WGSL packed_4x8_integer_dot_product: dot4I8Packed for quantized weights x Q8 activations. */
  packedDot?: boolean;
}

export interface Capabilities {
  /** e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) via vulkan (core)". */
  readonly adapter: string;
  readonly software: boolean;
  readonly featureLevel: 'core' | 'compatibility';
  readonly f16: boolean;
  readonly subgroups: boolean;
  readonly packedDot: boolean;
  /** Largest storage binding the kernels use (maxStorageBufferBindingSize, or lower on request). */
  readonly maxBindingBytes: number;
  readonly maxBufferBytes: number;
  /** Byte alignment of storage binding offsets (minStorageBufferOffsetAlignment). */
  readonly storageAlign: number;
  /** Byte alignment of uniform binding offsets (minUniformBufferOffsetAlignment). */
  readonly uniformAlign: number;
  /** Threads per workgroup of the kernels: 256, or less where the device allows less. */
  readonly workgroupSize: number;
  readonly maxWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerStage: number;
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

export function describeAdapter(adapter: GPUAdapter, backend: string, featureLevel: string): string {
  const info = adapter.info;
  const name = info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unknown adapter';
  return `${name} via ${backend} (${featureLevel})`;
}

export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  // Dawn's OpenGL ES adapter names Mesa's llvmpipe only in `device`.
  return Boolean(info.isFallbackAdapter) || SOFTWARE_ADAPTER.test(`${info.description} ${info.vendor} ${info.architecture} ${info.device}`);
}

/** Features to request: those the adapter has, minus the ones switched off. */
export function wantedFeatures(adapter: GPUAdapter, switches: FeatureSwitches): GPUFeatureName[] {
  const wanted: GPUFeatureName[] = [];
  if (switches.f16 !== false && adapter.features.has('shader-f16')) wanted.push('shader-f16');
  if (switches.subgroups !== false && adapter.features.has('subgroups')) wanted.push('subgroups');
  return wanted;
}

/** The adapter's own limits for everything the kernels depend on (devices default to lower ones). */
export function wantedLimits(adapter: GPUAdapter): Record<string, number> {
  const names = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
    'minStorageBufferOffsetAlignment',
    'minUniformBufferOffsetAlignment',
  ] as const;
  const limits: Record<string, number> = {};
  for (const n of names) limits[n] = adapter.limits[n];
  return limits;
}

export function deviceCapabilities(
  device: GPUDevice,
  adapter: GPUAdapter,
  wgslFeatures: ReadonlySet<string>,
  description: string,
  featureLevel: 'core' | 'compatibility',
  switches: FeatureSwitches,
  maxBindingBytes: number | undefined,
): Capabilities {
  const l = device.limits;
  const deviceBinding = l.maxStorageBufferBindingSize;
  return {
    adapter: description,
    software: isSoftwareAdapter(adapter),
    featureLevel,
    f16: device.features.has('shader-f16'),
    // The reductions also need the subgroup_id builtin to place each subgroup's partial result.
    subgroups: device.features.has('subgroups') && wgslFeatures.has('subgroup_id'),
    packedDot: switches.packedDot !== false && wgslFeatures.has('packed_4x8_integer_dot_product'),
    maxBindingBytes: Math.min(deviceBinding, maxBindingBytes ?? deviceBinding),
    maxBufferBytes: l.maxBufferSize,
    storageAlign: l.minStorageBufferOffsetAlignment,
    uniformAlign: l.minUniformBufferOffsetAlignment,
    workgroupSize: largestPowerOfTwoAtMost(Math.min(256, l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX)),
    maxWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerStage: l.maxStorageBuffersPerShaderStage,
  };
}

function largestPowerOfTwoAtMost(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}
