#!/usr/bin/env node
// The isola command. CommonJS on purpose: Node starts a CommonJS entry faster than an ES module one,
// and `--version` is answered before anything else loads (oclif alone costs ~100 ms).
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v' || args[0] === 'version')) {
  process.stdout.write(`isola ${require('../package.json').version}\n`);
} else {
  const { pathToFileURL } = require('node:url');
  import('../dist/isola.mjs').then(({ run }) => run(args, pathToFileURL(__filename).href));
}
