#!/usr/bin/env node
// The Jupyter kernel process (kernels/llamascope/kernel.json starts it with a connection file).
// The TypeScript sources run through tsx, which also loads the library when a cell imports it.
require('tsx/cjs/api').register();
require('../src/kernel/main.ts')
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`llamascope kernel: ${error.message}\n`);
      process.exit(1);
    },
  );
