// `import { … } from 'llamascope'` in a cell, wherever the notebook lives, with full types; and the
// packages the library itself uses (apache-arrow, ...) likewise, as if the library's node_modules
// were on NODE_PATH.
//
// Two resolvers must agree:
// - Node's, for the cell's compiled code: 'llamascope' and its subpaths go to this package's root,
//   whose TypeScript sources tsx (registered by bin/llamascope-kernel.cjs) loads; other bare names
//   that fail from the notebook's directory are resolved again from the package's root.
// - tslab's type checker (TypeScript 5.0.4 with tslab's own options; rootDir is the notebook's
//   directory). tslab builds its compiler host internally and TypeScript's exports are read-only, so
//   neither options nor module resolution can be changed from outside; but the checker reads files
//   through `ts.sys`. So ts.sys shows a /node_modules directory, which node_modules lookup reaches
//   from any directory (a nearer node_modules wins, as with Node):
//     /node_modules/llamascope/    package.json + src/**/*.d.ts, this package's declarations
//                                  (declarations.ts), with these paths as their names;
//     /node_modules/<other>/       that package as Node finds it from this package's root.
//   Found through node_modules, all of it is an external library: read for types but never emitted
//   nor checked against rootDir (the check that breaks `import '../src'` from notebooks/). And every
//   type a cell's variable takes from there can be named from the cell ('llamascope/src/gguf/file',
//   'apache-arrow'), which tslab needs to carry declarations from one cell to the next.
import Module from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from '@tslab/typescript-for-tslab';

const NAME = 'llamascope';
const NODE_MODULES = '/node_modules';
const MOUNT = `${NODE_MODULES}/${NAME}`;
const MANIFEST = `${MOUNT}/package.json`;

/** `declarations`: the directory with the package's src/**\/*.d.ts (declarations.ts). */
export function exposeLibraryToCells(packageRoot: string, declarations: string): void {
  showToTypeChecker(packageRoot, declarations.replace(/\\/g, '/'));
  resolveAtRuntime(packageRoot);
}

function showToTypeChecker(packageRoot: string, declarations: string): void {
  const homes = new Map<string, string | undefined>();
  /** The node_modules directory Node would find package `name` in, starting from the package root. */
  const home = (name: string) => {
    if (!homes.has(name)) {
      let found: string | undefined;
      for (let dir = packageRoot; !found; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, 'node_modules', name))) found = path.join(dir, 'node_modules');
        if (dir === path.dirname(dir)) break;
      }
      homes.set(name, found?.replace(/\\/g, '/'));
    }
    return homes.get(name);
  };
  /** Where a path under /node_modules really is; undefined for paths outside the view. */
  const real = (p: string): string | undefined => {
    if (!p.startsWith(`${NODE_MODULES}/`)) return undefined;
    const rest = p.slice(NODE_MODULES.length + 1);
    const parts = rest.split('/');
    const name = parts[0].startsWith('@') && parts.length > 1 ? `${parts[0]}/${parts[1]}` : parts[0];
    if (name === NAME) return declarations + rest.slice(NAME.length);
    const dir = home(name);
    return dir === undefined ? undefined : `${dir}/${rest}`;
  };
  const manifest = JSON.stringify({ name: NAME, types: 'src/index.d.ts' });

  const sys = ts.sys;
  const { fileExists, directoryExists, readFile, getDirectories, watchFile } = sys;
  const realpath = sys.realpath?.bind(sys) ?? ((p: string) => p);
  const inView = <T>(p: string, inside: (r: string) => T, outside: (p: string) => T) => {
    const r = real(p);
    return r === undefined ? outside(p) : inside(r);
  };
  sys.fileExists = (p) => p === MANIFEST || inView(p, fileExists, fileExists);
  sys.readFile = (p, encoding) => (p === MANIFEST ? manifest : inView(p, (r) => readFile(r, encoding), (q) => readFile(q, encoding)));
  sys.directoryExists = (p) => p === NODE_MODULES || p === MOUNT || inView(p, directoryExists, directoryExists);
  sys.getDirectories = (p) => inView(p, getDirectories, getDirectories);
  if (watchFile) sys.watchFile = (p, callback, ...rest) => inView(p, (r) => watchFile(r, (_, kind, time) => callback(p, kind, time), ...rest), (q) => watchFile(q, callback, ...rest));
  // The library's declarations keep their /node_modules/llamascope names. Its dependencies resolve to
  // their real paths, so that a notebook inside a project that has them itself sees one copy; from
  // elsewhere TypeScript still names them through /node_modules (it remembers the path it came by).
  sys.realpath = (p) => (p === MOUNT || p.startsWith(`${MOUNT}/`) ? p : inView(p, realpath, realpath));
}

function resolveAtRuntime(packageRoot: string): void {
  // Module._resolveFilename is Node's CommonJS resolution entry point (the one tsx hooks too); it is
  // not in @types/node.
  type Resolve = (request: string, parent: unknown, isMain?: boolean, options?: { paths?: string[] }) => string;
  const loader = Module as unknown as { _resolveFilename: Resolve };
  const resolve = loader._resolveFilename;
  loader._resolveFilename = function (request, parent, isMain, options) {
    if (request === NAME || request.startsWith(`${NAME}/`)) return resolve.call(this, packageRoot + request.slice(NAME.length), parent, isMain, options);
    try {
      return resolve.call(this, request, parent, isMain, options);
    } catch (e) {
      const bare = !request.startsWith('.') && !path.isAbsolute(request);
      if (!bare || (e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
      return resolve.call(this, request, parent, isMain, { paths: [packageRoot] });
    }
  };
}
