#!/usr/bin/env node
// isola-runtime: runc-compatible. Runs the bundled runtime (dist/isola-runtime.cjs; no oclif), compiled
// through a V8 code cache (@isola/code-cache) kept per command in dist/v8-cache: containerd and podman
// start this binary for every create, start, state and delete, and compiling ~200 KB of JavaScript each
// time is a good part of its start.
'use strict';
const path = require('node:path');
const { runCached, saveCaches } = require('@isola/code-cache');

const bundle = path.join(__dirname, '..', 'dist', 'isola-runtime.cjs');
const argv = process.argv.slice(2);

/** The command word (create, run...), skipping global flags and their values. */
function commandOf(args) {
  for (let i = 0; i < args.length; i++) {
    if (['--root', '--log', '--log-format', '--criu', '--rootless'].includes(args[i])) i++;
    else if (!args[i].startsWith('-')) return /^[a-z]+$/.test(args[i]) ? args[i] : 'other';
  }
  return 'none';
}

const word = commandOf(argv);
const runtime = { exports: {} };
runCached(runtime, bundle, { cacheDir: path.join(__dirname, '..', 'dist', 'v8-cache'), prefix: `${word}-` });

runtime.exports.main(argv).then((code) => {
  // Only for the runtime's commands: a mistyped word would leave a cache behind each.
  if (word === 'none' || Object.hasOwn(runtime.exports.COMMANDS ?? {}, word)) saveCaches();
  // Everything main() started has finished: exit at once rather than tear down the heap and the
  // environment as a natural exit does (~4 ms of CPU, measured in bench/runtime's conditions).
  process.exit(code);
});
