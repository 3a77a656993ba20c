// The Dawn instances (`create()` of the `webgpu` package), one per set of Dawn toggles, anchored
// on globalThis while any device made from them lives. dawn.node frees its instance when V8
// collects the object `create()` returned, and a device still in use then crashes the process
// inside ProcessEvents (docs in /work/shared/docs/TOOLCHAIN.md); a module-level variable is not
// enough when tests or notebooks load this module more than once, so the anchor is global.
/// <reference types="@webgpu/types" />

/** The `webgpu` package's API (an ES module: required at run time, typed here). */
interface DawnModule {
  create(toggles: string[]): GPU;
  globals: object;
}

interface Instance {
  gpu: GPU;
  users: number;
}

const ANCHOR = Symbol.for('llamascope.webgpu.dawnInstances');
type Anchored = typeof globalThis & { [ANCHOR]?: Map<string, Instance> };

function instances(): Map<string, Instance> {
  const g = globalThis as Anchored;
  return (g[ANCHOR] ??= new Map());
}

let dawn: DawnModule | null = null;

/** The Dawn instance for these toggles, counted as used until `releaseDawn`. */
export function acquireDawn(toggles: readonly string[]): GPU {
  if (!dawn) {
    // Loaded on first use, so CPU-only users never load the native module.
    dawn = require('webgpu') as DawnModule;
    // GPUBufferUsage, GPUMapMode, ... as in a browser.
    Object.assign(globalThis, dawn.globals);
  }
  // OpenGL ES through EGL needs a platform; without a display, Mesa's surfaceless one works.
  if (toggles.includes('backend=opengles') || toggles.includes('backend=opengl')) process.env.EGL_PLATFORM ??= 'surfaceless';
  const key = toggles.join(' ');
  const map = instances();
  let entry = map.get(key);
  if (!entry) {
    entry = { gpu: dawn.create([...toggles]), users: 0 };
    map.set(key, entry);
  }
  entry.users++;
  return entry.gpu;
}

/** One user of `gpu` is done (its device destroyed); the last one lets the instance go. */
export function releaseDawn(gpu: GPU): void {
  const map = instances();
  for (const [key, entry] of map) {
    if (entry.gpu !== gpu) continue;
    if (--entry.users <= 0) map.delete(key);
    return;
  }
}
