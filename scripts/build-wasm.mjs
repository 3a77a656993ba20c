// Compiles the WASM CPU kernels (src/backend/cpu/wasm/c/*.c) with clang's wasm32 target and SIMD128
// into src/backend/cpu/wasm/kernels.wasm. Runs on `npm install` (prepare) and before `npm test`.
// Needs Debian's `clang` and `lld` (apt-get install clang lld); without them the CPU backend uses
// its TypeScript reference kernels, and this script says so (exit 0) unless --required is given.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'src/backend/cpu/wasm/c');
const output = join(root, 'src/backend/cpu/wasm/kernels.wasm');
const required = process.argv.includes('--required');
const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.c') || f.endsWith('.h')).map((f) => join(sourceDir, f));

const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
if (existsSync(output) && statSync(output).mtimeMs >= newest) process.exit(0);

const flags = [
  '--target=wasm32', '-O3', '-std=c11', '-Wall', '-Werror', '-nostdlib',
  '-msimd128', '-matomics', '-mbulk-memory', '-mmutable-globals', '-mnontrapping-fptoint',
  '-Wl,--no-entry', '-Wl,--export-dynamic', '-Wl,--export=__stack_pointer', '-Wl,--export=__heap_base',
  '-Wl,--import-memory', '-Wl,--shared-memory', '-Wl,--max-memory=4294967296',
  '-o', output,
];
try {
  execFileSync('clang', [...flags, ...sources.filter((f) => f.endsWith('.c'))], { stdio: ['ignore', 'inherit', 'inherit'] });
  console.error(`built ${output}`);
} catch (e) {
  const missing = e.code === 'ENOENT';
  const message = missing
    ? 'clang is not installed: the CPU backend will use its (slow) TypeScript reference kernels. Install clang and lld (Debian: apt-get install clang lld) and run `npm run build:wasm`.'
    : `compiling the WASM kernels failed (${e.message})`;
  console.error(message);
  process.exit(required || !missing ? 1 : 0);
}
