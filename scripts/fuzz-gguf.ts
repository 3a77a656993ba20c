// Seeded mutation fuzzing of the GGUF reader: every mutated file must either open (and then read)
// or fail with a GGUFError — never another exception, a hang or a huge allocation.
// The test suite runs a few thousand cases; for a long run: `npm run fuzz -- 200000 [seed]`.
import { GGUFError, openGGUF } from '../src/gguf';
import { rng, tinyFile } from '../test/helpers/tiny-gguf';

export interface FuzzResult {
  cases: number;
  opened: number;
  failures: string[];
  slowestMs: number;
}

const EXTREME_U64 = [0n, 1n, 2n ** 31n, 2n ** 32n, 2n ** 40n, 2n ** 62n, 2n ** 63n, 2n ** 64n - 1n];
const EXTREME_U32 = [0, 1, 4, 5, 9, 12, 13, 99, 2 ** 31, 2 ** 32 - 1];

function mutate(base: Uint8Array, next: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(next() * n);
  let b = base.slice();
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    const at = pick(b.length);
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (pick(6)) {
      case 0:
        for (let i = 0; i < 1 + pick(8) && at + i < b.length; i++) b[at + i] = pick(256);
        break;
      case 1:
        if (at + 8 <= b.length) view.setBigUint64(at, EXTREME_U64[pick(EXTREME_U64.length)], true);
        break;
      case 2:
        if (at + 4 <= b.length) view.setUint32(at, EXTREME_U32[pick(EXTREME_U32.length)], true);
        break;
      case 3:
        b = b.slice(0, at);
        break;
      case 4: {
        const len = 1 + pick(16);
        b = Uint8Array.from([...b.subarray(0, at), ...Array.from({ length: len }, () => pick(256)), ...b.subarray(at)]);
        break;
      }
      default:
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + pick(16)))]);
    }
    if (b.length === 0) break;
  }
  return b;
}

/** Open and read the file every way a user might; returns a description of any non-GGUFError. */
function exercise(bytes: Uint8Array): { opened: boolean; failure?: string } {
  let opened = false;
  try {
    openGGUF(bytes); // strict
    opened = true;
  } catch (e) {
    if (!(e instanceof GGUFError)) return { opened, failure: `strict open threw ${String(e)}` };
  }
  try {
    const f = openGGUF(bytes, { strict: false });
    for (const key of f.metadata.keys()) f.get(key);
    for (const t of f.tensors) {
      if (!t.type.codec) continue;
      try {
        f.readRows(t);
        f.regionAt(t.offset);
      } catch (e) {
        if (!(e instanceof GGUFError)) return { opened, failure: `reading '${t.name}' threw ${String(e)}` };
      }
    }
  } catch (e) {
    if (!(e instanceof GGUFError)) return { opened, failure: `lenient open threw ${String(e)}` };
  }
  return { opened };
}

export function fuzzGGUF(cases: number, seed: number): FuzzResult {
  const next = rng(seed);
  const base = tinyFile();
  const result: FuzzResult = { cases, opened: 0, failures: [], slowestMs: 0 };
  for (let i = 0; i < cases; i++) {
    const bytes = mutate(base, next);
    const start = process.hrtime.bigint();
    const { opened, failure } = exercise(bytes);
    result.slowestMs = Math.max(result.slowestMs, Number(process.hrtime.bigint() - start) / 1e6);
    if (opened) result.opened++;
    if (failure) result.failures.push(`case ${i} (seed ${seed}): ${failure}; bytes ${Buffer.from(bytes).toString('base64')}`);
  }
  return result;
}

if (require.main === module) {
  const cases = Number(process.argv[2] ?? 100000);
  const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
  const r = fuzzGGUF(cases, seed);
  console.log(`${r.cases} cases, seed ${seed}: ${r.opened} opened, ${r.failures.length} failures, slowest ${r.slowestMs.toFixed(1)} ms`);
  for (const f of r.failures.slice(0, 20)) console.log(f);
  process.exitCode = r.failures.length ? 1 : 0;
}
