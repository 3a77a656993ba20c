// Type declarations of this package (src/**/*.d.ts) for tslab's type checker.
//
// Checking cells against the package's TypeScript sources would make TypeScript type-check the whole
// library again whenever a cell imports it (seconds per cell, and more for the first); declarations
// are only read. They are emitted by tslab's own TypeScript, so that its checker understands every
// line, and cached by a hash of the sources: emitting costs a few seconds, once per change of src/.
// The cache is <package>/node_modules/.cache/llamascope-kernel (the usual place for tools' caches;
// it goes with node_modules). library-import.ts shows the declarations to the checker.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from '@tslab/typescript-for-tslab';
import { log } from './log';

// Cached declarations of other source versions are removed once this old (a kernel started before
// the sources changed may still be reading its own).
const STALE_MS = 24 * 3600 * 1000;

/** The directory holding src/**\/*.d.ts for the package's current sources; emits them if needed. */
export function packageDeclarations(packageRoot: string): string {
  const sourceDir = path.join(packageRoot, 'src');
  const sources = ts.sys.readDirectory(sourceDir, ['.ts'], ['**/*.d.ts']).sort();
  const hash = createHash('sha256').update(ts.version);
  for (const file of sources) hash.update(path.relative(packageRoot, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  const cache = path.join(packageRoot, 'node_modules', '.cache', 'llamascope-kernel');
  const dir = path.join(cache, hash.digest('hex').slice(0, 16));
  if (fs.existsSync(dir)) return dir;

  const started = Date.now();
  fs.mkdirSync(cache, { recursive: true });
  // Emitted aside and renamed into place, so that a kernel never reads half a set; when two kernels
  // race, the first rename wins and the other set is dropped.
  const staging = fs.mkdtempSync(path.join(cache, 'staging-'));
  try {
    emit(packageRoot, sources, path.join(staging, 'src'));
    fs.renameSync(staging, dir);
  } catch (e) {
    if (!fs.existsSync(dir)) throw new Error(`could not write type declarations for notebooks to ${cache}: ${(e as Error).message}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  log(`emitted declarations of ${sources.length} source files for the type checker in ${Date.now() - started} ms (${dir})`);
  removeStale(cache, dir);
  return dir;
}

function emit(packageRoot: string, sources: string[], outDir: string): void {
  const options: ts.CompilerOptions = {
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: path.join(packageRoot, 'src'),
    outDir,
    // As tslab compiles cells (tslab/dist/converter.js).
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  // Automatic @types (node) are looked up from the package, not from the notebook's directory.
  host.getCurrentDirectory = () => packageRoot;
  // Type errors do not stop the emit (the library is type-checked by its own build); only failures to write do.
  const { emitSkipped } = ts.createProgram(sources, options, host).emit();
  if (emitSkipped) throw new Error('TypeScript skipped emitting the declarations');
}

function removeStale(cache: string, keep: string): void {
  for (const entry of fs.readdirSync(cache)) {
    const dir = path.join(cache, entry);
    if (dir !== keep && Date.now() - fs.statSync(dir).mtimeMs > STALE_MS) fs.rmSync(dir, { recursive: true, force: true });
  }
}
