// The kernel process, as kernels/llamascope/kernel.json starts it:
//   node bin/llamascope-kernel.cjs CONNECTION_FILE
// Jupyter starts it in the notebook's directory; cells see that as theirs.
import * as path from 'node:path';
import { CellRunner } from './cell-runner';
import { readConnectionFile } from './connection';
import { packageDeclarations } from './declarations';
import { Kernel } from './kernel';
import { exposeLibraryToCells } from './library-import';

const PACKAGE_ROOT = path.resolve(__dirname, '../..');

export async function main(argv: string[]): Promise<number> {
  if (argv.length !== 1) {
    process.stderr.write('usage: llamascope-kernel CONNECTION_FILE\n\nJupyter starts this process itself. To make the kernel available to Jupyter, run `npx llamascope kernel install --user`.\n');
    return 2;
  }
  const connection = readConnectionFile(argv[0]);
  // Before tslab starts its TypeScript program, which must see the library from the start. Emitting
  // the declarations (needed only after src/ changed) lengthens this start rather than a cell:
  // frontends give a kernel a minute to start, but some give a request only seconds.
  exposeLibraryToCells(PACKAGE_ROOT, packageDeclarations(PACKAGE_ROOT));
  const kernel = await Kernel.start(connection, new CellRunner(process.cwd()));
  process.on('SIGINT', () => kernel.interrupt());
  process.on('unhandledRejection', (reason) => kernel.reportStray('A promise was rejected', reason));
  process.on('uncaughtException', (error) => kernel.reportStray('A callback threw', error));
  await kernel.closed;
  return 0;
}
