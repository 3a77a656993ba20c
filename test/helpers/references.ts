// Access to the independent references in ../shared/models/manllama-6m (made with llama.cpp itself).
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MODEL_DIR = path.resolve(__dirname, '../../../shared/models/manllama-6m');
export const REFERENCES_DIR = path.join(MODEL_DIR, 'references');

export function haveSharedModels(): boolean {
  return fs.existsSync(MODEL_DIR);
}

/** Path of a model file by its suffix, e.g. modelPath('q4_k_m') -> .../manllama-6m-q4_k_m.gguf */
export function modelPath(suffix: string): string {
  return path.join(MODEL_DIR, `manllama-6m-${suffix}.gguf`);
}

/** All model file suffixes present (f32, q4_0-pure, ...). */
export function modelSuffixes(): string[] {
  return fs
    .readdirSync(MODEL_DIR)
    .filter((f) => f.endsWith('.gguf'))
    .map((f) => f.slice('manllama-6m-'.length, -'.gguf'.length))
    .sort();
}

export interface DequantReference {
  name: string;
  /** ggml type name as gguf-py prints it (q4_K, f32, bf16). */
  type: string;
  /** GGUF dimensions, innermost first, padded to 4. */
  ne: number[];
  nbytes: number;
  raw_fnv1a64: string;
  f32_fnv1a64: string;
  sum: number;
  sumsq: number;
  /** Full dequantized rows keyed by row index (0, 1, middle, last). */
  rows: Record<string, number[]>;
}

export function dequantReferences(suffix: string): DequantReference[] {
  const file = path.join(REFERENCES_DIR, 'dequant', `manllama-6m-${suffix}.jsonl`);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DequantReference);
}

/**
 * The offset basis the references/dequant hashes were made with: 1469598103934665603
 * (0x14650fb0739d0383), which is FNV's standard 14695981039346656037 with its last digit dropped.
 * The shared README names the standard basis, but no reference hash matches it; with this one all
 * 400+ raw and dequantized hashes match (found by a helper while checking the K-quants).
 */
export const REFERENCE_FNV_BASIS = 0x14650fb0739d0383n;
export const STANDARD_FNV_BASIS = 0xcbf29ce484222325n;

/** FNV-1a 64-bit over bytes (prime 0x100000001b3), as 16 lowercase hex digits. */
export function fnv1a64(bytes: Uint8Array, basis = REFERENCE_FNV_BASIS): string {
  // 64-bit state in four 16-bit limbs; prime = 2^40 + 0x1b3, so h*prime = h*0x1b3 + (h << 40) mod 2^64.
  let h0 = Number(basis & 0xffffn), h1 = Number((basis >> 16n) & 0xffffn), h2 = Number((basis >> 32n) & 0xffffn), h3 = Number(basis >> 48n);
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i];
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (t1 >>> 16) + ((h0 & 0xff) << 8);
    const t3 = h3 * 0x1b3 + (t2 >>> 16) + (h0 >>> 8) + ((h1 & 0xff) << 8);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  const hex = (n: number) => n.toString(16).padStart(4, '0');
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}
