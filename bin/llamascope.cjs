#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through tsx, so a checkout needs no build step.
require('tsx/cjs/api').register();
require('../src/cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
