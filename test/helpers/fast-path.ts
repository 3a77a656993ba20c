// Shared by the CPU fast-path tests: the builds to test, a seeded generator and a float32 bit-equality check.
import assert from 'node:assert/strict';
import { relaxedSimdUnavailable, type WasmSimd } from '../../src/backend/cpu/wasm/runtime';

/**
 * The fast path's builds under test. On x86-64 both, always: a relaxed build that is missing or
 * fails its probe there is a failure. Elsewhere the relaxed build only where it can run.
 */
export const SIMD_BUILDS: WasmSimd[] = process.arch === 'x64' || relaxedSimdUnavailable() === null ? ['simd128', 'relaxed'] : ['simd128'];

/** Uniform values in [-0.5, 0.5) from a 32-bit LCG: the same sequence for the same seed. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Every element of `actual` (fast path) has the float32 bits of `expected` (reference kernels). */
export function bitsEqual(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${what}: element ${i} is ${actual[i]} on the fast path, ${expected[i]} on the reference kernels`);
  }
}
