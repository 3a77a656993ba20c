// Debian's jupyter_kernel_test suite against our kernel, every optional test configured with a real
// sample (test/fixtures/kernel/kernel_suite.py), none skipped.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { FIXTURES, PYTHON, jupyterEnv, scratchDir } from './helpers/jupyter';

const TESTS = [
  'test_kernel_info',
  'test_execute_stdout',
  'test_execute_stderr',
  'test_completion',
  'test_is_complete',
  'test_pager',
  'test_error',
  'test_execute_result',
  'test_display_data',
  'test_history',
  'test_inspect',
  'test_clear_output',
];

describe('kernel: jupyter_kernel_test', () => {
  it('passes every test of the suite, none skipped', () => {
    const cwd = scratchDir('kernel-suite');
    try {
      const r = spawnSync(PYTHON, ['-Xfrozen_modules=off', '-m', 'unittest', '-v', 'kernel_suite'], {
        cwd,
        env: { ...jupyterEnv(), PYTHONPATH: FIXTURES },
        encoding: 'utf8',
      });
      // unittest reports on stderr.
      assert.equal(r.status, 0, r.stderr);
      for (const test of TESTS) assert.match(r.stderr, new RegExp(`^${test} \\(.*\\) \\.\\.\\. ok$`, 'm'), `${test} did not pass:\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^Ran ${TESTS.length} tests`, 'm'));
      assert.doesNotMatch(r.stderr, /skipped/);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
