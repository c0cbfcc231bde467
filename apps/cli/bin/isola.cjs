#!/usr/bin/env -S node --
// (`node --`: Node 20 reads a `--env-file` anywhere on its command line as its own option, even after the
// script name; isola's `run --env-file` must reach isola.)
// The isola command. CommonJS on purpose: Node starts a CommonJS entry faster than an ES module one,
// and `--version` is answered before anything else loads (oclif alone costs ~100 ms).
// The CLI bundle (dist/isola.cjs: oclif and the commands) and the CommonJS bundles it requires (the
// engine's dist/engine.cjs...) are compiled through a V8 code cache (@isola/code-cache, which says when
// a cache is trusted) kept per command in a v8-cache directory next to each: compiling them was the
// largest part of every command's start. The CLI bundle is put in require's cache, so that oclif,
// loading its command table from the same file, gets this copy.
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v' || args[0] === 'version')) {
  process.stdout.write(`isola ${require('../package.json').version}\n`);
} else {
  const fs = require('node:fs');
  const path = require('node:path');
  const Module = require('node:module');
  const { pathToFileURL } = require('node:url');
  const { runCached, saveCaches } = require('@isola/code-cache');

  // The command word: `run`, `container` (of `container ls`)...
  const word = args.find((arg) => !arg.startsWith('-')) ?? 'none';
  const key = /^[a-z][a-z-]{0,30}$/.test(word) ? word : 'other';
  /** Runs a CommonJS bundle as `mod`, with this command's cache in a v8-cache directory beside it. */
  const run = (mod, filename) => runCached(mod, filename, { cacheDir: path.join(path.dirname(filename), 'v8-cache'), prefix: `${path.basename(filename, '.cjs')}-${key}-` });

  // The bundles of isola's packages (a dist/*.cjs beside a package.json naming an @isola package or this
  // one); small ones (chunks of a few KB) compile faster than their cache would be read.
  const plainCjs = Module._extensions['.cjs'] ?? Module._extensions['.js'];
  Module._extensions['.cjs'] = (mod, filename) => {
    if (/\/dist\/[\w.-]+\.cjs$/.test(filename) && fs.statSync(filename).size >= 32768 && isolaPackage(path.dirname(path.dirname(filename)))) run(mod, filename);
    else plainCjs(mod, filename);
  };
  function isolaPackage(dir) {
    try {
      const name = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name;
      return name === 'isola' || name.startsWith('@isola/');
    } catch {
      return false;
    }
  }

  const bundle = fs.realpathSync(path.join(__dirname, '..', 'dist', 'isola.cjs'));
  const cli = new Module(bundle, module);
  cli.filename = bundle;
  cli.paths = Module._nodeModulePaths(path.dirname(bundle));
  require.cache[bundle] = cli;
  run(cli, bundle);
  cli.loaded = true;
  if (process.env.ISOLA_TIMING === '1') process.stderr.write(`isola-timing: cli loaded at ${performance.now().toFixed(1)} ms\n`);

  // Written once the command has run, so that the functions it compiled on the way are in it too; only
  // for isola's commands (a mistyped word would leave a cache behind each).
  const command = (id) => id === word || id.startsWith(`${word}:`);
  process.once('exit', () => {
    if (key === 'none' || Object.keys(cli.exports.COMMANDS ?? {}).some(command)) saveCaches();
  });
  cli.exports.run(args, pathToFileURL(__filename).href);
}
