// `llamascope kernel install`: the kernelspec Jupyter gets, and a kernel started from it.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli';
import { JUPYTER, REPO, runSession, scratchDir } from './helpers/jupyter';

describe('kernel: llamascope kernel install', () => {
  const prefix = scratchDir('kernel-prefix');
  after(() => fs.rmSync(prefix, { recursive: true, force: true }));

  it('installs a kernelspec that names the kernel and Node by absolute paths, and it starts', () => {
    const r = runCli('kernel', 'install', '--prefix', prefix, '--jupyter', JUPYTER);
    assert.equal(r.status, 0, r.stderr);
    const installed = path.join(prefix, 'share', 'jupyter', 'kernels', 'llamascope');
    const spec = JSON.parse(fs.readFileSync(path.join(installed, 'kernel.json'), 'utf8'));
    assert.deepEqual(spec.argv, [process.execPath, path.join(REPO, 'bin', 'llamascope-kernel.cjs'), '{connection_file}']);
    assert.equal(spec.interrupt_mode, 'signal');
    assert.equal(spec.language, 'typescript');

    // Jupyter looks only in the prefix for kernels: this is the installed copy running.
    const cwd = scratchDir('kernel-installed');
    try {
      const [result] = runSession([{ execute: "import { GGML_TYPES } from 'llamascope'\nGGML_TYPES.length > 0" }], { cwd, jupyterPath: path.join(prefix, 'share', 'jupyter') });
      assert.equal(result.reply.status, 'ok', JSON.stringify(result.outputs));
      assert.equal(result.outputs.find((o: { kind: string }) => o.kind === 'execute_result').content.data['text/plain'], 'true');
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('says what to do when Jupyter cannot be run, and rejects contradictory places', () => {
    const missing = runCli('kernel', 'install', '--prefix', prefix, '--jupyter', '/nonexistent/jupyter');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /could not run '\/nonexistent\/jupyter'.*apt-get install jupyter-client/);
    const both = runCli('kernel', 'install', '--user', '--prefix', prefix);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--user and --prefix/);
  });
});
