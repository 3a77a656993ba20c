// Real Jupyter clients for the kernel tests: Debian's python3 with jupyter_client, nbconvert and
// jupyter_kernel_test (installed by .ci/install-debian-packages), run as child processes. Jupyter
// finds the kernel through JUPYTER_PATH=<this checkout>, i.e. its kernels/llamascope, uninstalled.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
export const FIXTURES = path.join(REPO, 'test/fixtures/kernel');
export const MODEL = path.join(REPO, 'data/manllama-6m/manllama-6m-q8_0.gguf');
// The first python3 on PATH may be one without Jupyter (pyenv); Debian's is the one with it.
export const PYTHON = '/usr/bin/python3';
export const JUPYTER = '/usr/bin/jupyter';

export function jupyterEnv(jupyterPath = REPO): NodeJS.ProcessEnv {
  // PYDEVD_*: quiets a debugger warning that importing Jupyter's Python packages prints.
  return { ...process.env, JUPYTER_PATH: jupyterPath, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
}

/** A fresh directory outside the checkout: kernels started there prove 'llamascope' resolves anywhere. */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `llamascope-${prefix}-`));
}

export interface Output {
  kind: string;
  content: Record<string, any>;
  /** Milliseconds from sending the request to the output's arrival. */
  ms: number;
}

export interface ExecuteResult {
  reply: Record<string, any>;
  /** Milliseconds from sending the request to its reply. */
  reply_ms: number;
  outputs: Output[];
  /** With `heartbeat_after`: how long a heartbeat ping took while the cell ran (null: no answer). */
  heartbeat_ms?: number | null;
}

/** Drive one kernel through test/fixtures/kernel/session.py (see its docstring for the steps). */
export function runSession(steps: object[], options: { cwd: string; jupyterPath?: string }): any[] {
  const r = spawnSync(PYTHON, ['-Xfrozen_modules=off', path.join(FIXTURES, 'session.py')], {
    cwd: options.cwd,
    env: jupyterEnv(options.jupyterPath),
    input: JSON.stringify({ kernel_name: 'llamascope', steps }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`session.py failed (exit ${r.status}):\n${r.stderr}\n(Jupyter comes from Debian packages: see .ci/install-debian-packages)`);
  return (JSON.parse(r.stdout) as any[]).map(toResult);
}

function toResult(result: any): any {
  if (Array.isArray(result)) return result.map(toResult);
  if (!result.outputs) return result;
  return { ...result, outputs: result.outputs.map(([kind, content, ms]: [string, Record<string, any>, number]) => ({ kind, content, ms })) };
}
