// Compiles the WASM CPU kernels (src/backend/cpu/wasm/c/*.c) with clang's wasm32 target and SIMD128
// into src/backend/cpu/wasm/kernels.wasm, and — with clang 16 or newer — the same kernels with
// relaxed SIMD (x86's int8 dot product and FMA; each `X-relaxed.c` replaces its `X.c`) into
// kernels-relaxed.wasm, which the runtime prefers where the machine passes its probe. Runs on
// `npm install` (prepare) and before `npm test`. Needs Debian's `clang-19` and `lld-19` (or `clang`
// and `lld`: then only kernels.wasm); without clang the CPU backend uses its TypeScript reference
// kernels, and this script says so (exit 0) unless --required is given.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'src/backend/cpu/wasm/c');
const outputDir = join(root, 'src/backend/cpu/wasm');
const required = process.argv.includes('--required');
const files = readdirSync(sourceDir).map((f) => join(sourceDir, f));
const sources = files.filter((f) => f.endsWith('.c'));
const relaxedVariant = (f) => f.endsWith('-relaxed.c') || f.endsWith('relaxed-probe.c');

const modules = [
  { output: join(outputDir, 'kernels.wasm'), flags: [], sources: sources.filter((f) => !relaxedVariant(f)) },
  {
    output: join(outputDir, 'kernels-relaxed.wasm'),
    flags: ['-mrelaxed-simd'],
    sources: sources.filter((f) => relaxedVariant(f) || !existsSync(f.replace(/\.c$/, '-relaxed.c'))),
    minimumClang: 16,
  },
];

const common = [
  '--target=wasm32', '-O3', '-std=c11', '-Wall', '-Werror', '-nostdlib', '-ffp-contract=off', // roundings are the kernels' own: no implicit FMA
  '-msimd128', '-matomics', '-mbulk-memory', '-mmutable-globals', '-mnontrapping-fptoint',
  '-Wl,--no-entry', '-Wl,--export-dynamic', '-Wl,--export=__stack_pointer', '-Wl,--export=__heap_base',
  '-Wl,--import-memory', '-Wl,--shared-memory', '-Wl,--max-memory=4294967296',
];

/**
 * A clang installed, as [command, major version], or null: Debian's default `clang` (14 in
 * bookworm, which compiles kernels.wasm as measured in docs/PERFORMANCE.md) first, unless `newest`.
 */
function findClang(newest) {
  const candidates = ['clang-19', 'clang-18', 'clang-17', 'clang-16'];
  for (const command of newest ? [...candidates, 'clang'] : ['clang', ...candidates]) {
    try {
      const version = execFileSync(command, ['--version'], { encoding: 'utf8' });
      return [command, Number(/clang version (\d+)/.exec(version)?.[1] ?? 0)];
    } catch {
      // not installed: try the next
    }
  }
  return null;
}

const newest = Math.max(...files.map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
// `npm run build:wasm` (--required) always rebuilds: a deleted source leaves no newer mtime behind.
const stale = modules.filter((m) => required || !existsSync(m.output) || statSync(m.output).mtimeMs < newest);
if (stale.length === 0) process.exit(0);

if (!findClang(false)) {
  console.error('clang is not installed: the CPU backend will use its (slow) TypeScript reference kernels. Install clang-19 and lld-19 (Debian: apt-get install clang-19 lld-19) and run `npm run build:wasm`.');
  process.exit(required ? 1 : 0);
}
let failed = false;
for (const m of stale) {
  const [command, version] = findClang(Boolean(m.minimumClang));
  if (version < (m.minimumClang ?? 0)) {
    console.error(`${command} is version ${version}: ${m.output} needs clang ${m.minimumClang} or newer (Debian: apt-get install clang-19 lld-19); the slower kernels.wasm is used instead.`);
    continue;
  }
  try {
    execFileSync(command, [...common, ...m.flags, '-o', m.output, ...m.sources], { stdio: ['ignore', 'inherit', 'inherit'] });
    console.error(`built ${m.output} (${command})`);
  } catch (e) {
    console.error(`compiling ${m.output} failed (${e.message})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
