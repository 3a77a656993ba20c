// Giving heap memory back when its owner is garbage: a realized result a notebook cell drops, or an
// uploaded array, is never freed explicitly, and the garbage collector neither sees the WASM heap
// nor feels its size, so it may not run for a long time. A FinalizationRegistry returns a buffer's
// range after its CpuBuffer is collected; and before the heap grows (after enough allocation since
// the last time) a full collection is forced and the registry's callbacks are run at once
// (cleanupSome), so a loop that drops large results reuses their memory instead of growing.
// Forcing needs V8's gc() and cleanupSome, enabled here by flags and taken from a fresh context
// (flags set after startup apply to new contexts); without them memory comes back later.
// Registration waits for a microtask: most buffers are a realization's intermediates, freed before
// it returns, and never need the registry (registering and unregistering each cost microseconds,
// ~3 ms of a TinyLlama decode step).
import v8 from 'node:v8';
import vm from 'node:vm';

/** Bytes allocated since the last forced collection before growth may force another. */
const COLLECT_AFTER_BYTES = 256 * 1024 * 1024;

interface Registry<T> {
  register(target: object, held: T, token: object): void;
  unregister(token: object): void;
  cleanupSome?(): void;
}

const runtime = ((): { gc: (() => void) | null; Registry: new <T>(cleanup: (held: T) => void) => Registry<T> } => {
  try {
    v8.setFlagsFromString('--expose-gc');
    v8.setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
    const fresh = vm.runInNewContext('({ gc, FinalizationRegistry })') as { gc: () => void; FinalizationRegistry: new <T>(cleanup: (held: T) => void) => Registry<T> };
    if (typeof fresh.gc === 'function' && typeof fresh.FinalizationRegistry.prototype.cleanupSome === 'function') {
      return { gc: fresh.gc, Registry: fresh.FinalizationRegistry };
    }
  } catch {
    // flags this V8 does not know: collect lazily
  }
  return { gc: null, Registry: FinalizationRegistry as unknown as new <T>(cleanup: (held: T) => void) => Registry<T> };
})();

interface Entry {
  offset: number;
  bytes: number;
  /** Held until registered (a buffer freed first never is); null afterwards or once freed. */
  owner: object | null;
  registered: boolean;
}

export class HeapReclaimer {
  private readonly live = new Map<number, Entry>();
  private readonly registry = new runtime.Registry<Entry>((entry) => this.reclaim(entry));
  private allocatedSinceCollection = 0;
  /** Tracked since the last flush, in order. */
  private unregistered: Entry[] = [];

  constructor(private readonly release: (offset: number, bytes: number) => void) {}

  /** `owner` holds heap bytes [offset, offset + bytes) until it is freed or becomes garbage. */
  track(owner: object, offset: number, bytes: number): void {
    const entry: Entry = { offset, bytes, owner, registered: false };
    this.live.set(offset, entry);
    if (this.unregistered.push(entry) === 1) queueMicrotask(() => this.flush());
    this.allocatedSinceCollection += bytes;
  }

  /** Explicitly freed: forget it (the caller releases the memory). */
  untrack(offset: number): void {
    const entry = this.live.get(offset);
    if (!entry) return;
    this.live.delete(offset);
    entry.owner = null;
    if (entry.registered) this.registry.unregister(entry);
  }

  /** The heap is about to grow: if enough was allocated since, collect garbage and return the dead. */
  beforeGrowth(): void {
    if (!runtime.gc || this.allocatedSinceCollection < COLLECT_AFTER_BYTES) return;
    this.allocatedSinceCollection = 0;
    this.flush();
    runtime.gc();
    this.registry.cleanupSome!();
  }

  /** Register the owners tracked since the last flush that are still live. */
  private flush(): void {
    const entries = this.unregistered;
    this.unregistered = [];
    for (const entry of entries) {
      if (!entry.owner) continue;
      this.registry.register(entry.owner, entry, entry);
      entry.owner = null;
      entry.registered = true;
    }
  }

  private reclaim(entry: Entry): void {
    if (this.live.get(entry.offset) !== entry) return;
    this.live.delete(entry.offset);
    this.release(entry.offset, entry.bytes);
  }
}
