// Device memory for notebook cells: `await scope(async () => ...)` frees every device buffer the
// cell made, except those of the tensors it returns (found in the returned value: a tensor, or
// arrays / plain objects holding tensors), which are realized first so nothing they still need is
// lost. A tensor made inside and not returned is unusable afterwards (using it names the reason).
// Backends whose memory the garbage collector reclaims (the CPU) just run the function.
import type { Backend, DeviceBuffer } from './backend';
import { defaultBackend } from './device';
import { realize } from './schedule';
import { Tensor } from './tensor';

/** A backend that can free, in one go, the buffers made during a scope. */
interface ScopedBackend extends Backend {
  beginScope(): void;
  endScope(keep: ReadonlySet<DeviceBuffer>): number;
}

function hasScopes(b: Backend): b is ScopedBackend {
  return typeof (b as Partial<ScopedBackend>).beginScope === 'function';
}

export async function scope<T>(fn: () => T | Promise<T>, backend: Backend = defaultBackend()): Promise<T> {
  if (!hasScopes(backend)) return fn();
  backend.beginScope();
  let keep = new Set<DeviceBuffer>();
  try {
    const result = await fn();
    const kept = tensorsIn(result);
    await realize(...kept);
    keep = new Set(kept.map((t) => t.node.buffer!));
    return result;
  } finally {
    backend.endScope(keep);
  }
}

function tensorsIn(value: unknown, seen = new Set<unknown>()): Tensor[] {
  if (value instanceof Tensor) return [value];
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value);
  const items = Array.isArray(value) ? value : Object.getPrototypeOf(value) === Object.prototype ? Object.values(value) : [];
  return items.flatMap((v) => tensorsIn(v, seen));
}
