#!/usr/bin/env node
// isola-runtime: runc-compatible. Runs the bundled runtime (dist/isola-runtime.cjs; no oclif), compiled
// through a V8 code cache kept per command next to it: containerd and podman start this binary for every
// create, start, state and delete, and compiling ~200 KB of JavaScript each time is a good part of its
// start. A cache is only read if this user wrote it and nobody else can (it is code that will run), and
// is keyed by the bundle's size, mtime and inode, since V8 itself only checks the source's length.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const bundle = path.join(__dirname, '..', 'dist', 'isola-runtime.cjs');
const cacheDir = path.join(__dirname, '..', 'dist', 'v8-cache');
const argv = process.argv.slice(2);

/** The command word (create, run...), skipping global flags and their values. */
function commandOf(args) {
  for (let i = 0; i < args.length; i++) {
    if (['--root', '--log', '--log-format', '--criu', '--rootless'].includes(args[i])) i++;
    else if (!args[i].startsWith('-')) return /^[a-z]+$/.test(args[i]) ? args[i] : 'other';
  }
  return 'none';
}

function trusted(stat) {
  return stat.uid === process.geteuid() && (stat.mode & 0o022) === 0;
}

const source = fs.readFileSync(bundle, 'utf8');
const id = fs.statSync(bundle);
const cacheFile = path.join(cacheDir, `${commandOf(argv)}-${id.size}-${Math.round(id.mtimeMs)}-${id.ino}.bin`);
let cachedData;
try {
  if (trusted(fs.statSync(cacheDir)) && trusted(fs.statSync(cacheFile))) cachedData = fs.readFileSync(cacheFile);
} catch {
  // no cache yet
}
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
const runtime = { exports: {} };
script.runInThisContext().call(runtime.exports, runtime.exports, Module.createRequire(bundle), runtime, bundle, path.dirname(bundle));

function saveCache() {
  if (cachedData && !script.cachedDataRejected) return;
  try {
    fs.mkdirSync(cacheDir, { mode: 0o700, recursive: true });
    if (!trusted(fs.statSync(cacheDir))) return;
    const temporary = `${cacheFile}.${process.pid}`;
    fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(temporary, cacheFile);
  } catch {
    // a read-only install runs without a cache
  }
}

runtime.exports.main(argv).then((code) => {
  saveCache();
  // Everything main() started has finished: exit at once rather than tear down the heap and the
  // environment as a natural exit does (~4 ms of CPU, measured in bench/runtime's conditions).
  process.exit(code);
});
