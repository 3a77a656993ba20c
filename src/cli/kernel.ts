// `llamascope kernel install`: make the llamascope kernel available to Jupyter (JupyterLab, VS Code,
// nbconvert) through `jupyter kernelspec install`. The installed kernel.json names this package's
// kernel and the Node running now by absolute paths, so that frontends which start kernels with
// another PATH (VS Code started from the desktop) start the same one.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from './command';
import { UsageError } from './format';

const ROOT = path.resolve(__dirname, '../..');
const SPEC = path.join(ROOT, 'kernels', 'llamascope');

export const kernel: Command = {
  summary: 'install the Jupyter kernel: TypeScript notebooks that import llamascope',
  usage: 'llamascope kernel install [--user | --prefix DIR] [--jupyter PATH]',
  positionals: 1,
  options: { user: { type: 'boolean' }, prefix: { type: 'string' }, jupyter: { type: 'string' } },
  run([action], { user, prefix, jupyter = 'jupyter' }) {
    if (action !== 'install') throw new UsageError(`unknown action '${action}': the one action is 'install'`);
    if (user && prefix) throw new UsageError('--user and --prefix name different places: give one of them');
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-kernelspec-'));
    try {
      fs.cpSync(SPEC, staging, { recursive: true });
      const spec = JSON.parse(fs.readFileSync(path.join(SPEC, 'kernel.json'), 'utf8'));
      spec.argv = [process.execPath, path.join(ROOT, 'bin', 'llamascope-kernel.cjs'), '{connection_file}'];
      fs.writeFileSync(path.join(staging, 'kernel.json'), JSON.stringify(spec, null, 2) + '\n');
      const where = user ? ['--user'] : typeof prefix === 'string' ? ['--prefix', prefix] : [];
      const r = spawnSync(String(jupyter), ['kernelspec', 'install', staging, '--name', 'llamascope', '--replace', ...where], { stdio: 'inherit' });
      if (r.error) {
        console.error(`llamascope kernel: could not run '${jupyter}' (${r.error.message}). Install Jupyter (on Debian: apt-get install jupyter-client python3-ipykernel jupyter-nbconvert) or pass --jupyter /path/to/jupyter.`);
        return 1;
      }
      return r.status ?? 1;
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  },
};
