#!/usr/bin/env node
// isola-runtime: runc-compatible. CommonJS entry, loading only the container library (no oclif).
'use strict';

import('../dist/isola-runtime.mjs').then(({ main }) => main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
