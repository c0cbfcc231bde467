#!/usr/bin/env -S node --
// (`node --`: Node 20 reads a `--env-file` anywhere on its command line as its own option, even after the
// script name; isola's `run --env-file` must reach isola.)
// The isola command. CommonJS on purpose: Node starts a CommonJS entry faster than an ES module one,
// and `--version` is answered before anything else loads (oclif alone costs ~100 ms).
// The CLI bundle (dist/isola.cjs: oclif and the commands) and the CommonJS bundles it requires (the
// engine's dist/engine.cjs...) are compiled through a V8 code cache kept per command in a v8-cache
// directory next to each, as packages/container/bin/isola-runtime.cjs does: compiling them was the
// largest part of every command's start. A cache is only read if this user wrote it and nobody else
// can (it is code that will run), and is keyed by the bundle's size, mtime and inode, since V8 itself
// only checks the source's length. The CLI bundle is put in require's cache, so that oclif, loading
// its command table from the same file, gets this copy.
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v' || args[0] === 'version')) {
  process.stdout.write(`isola ${require('../package.json').version}\n`);
} else {
  const fs = require('node:fs');
  const path = require('node:path');
  const vm = require('node:vm');
  const Module = require('node:module');
  const { pathToFileURL } = require('node:url');

  const trusted = (stat) => stat.uid === process.geteuid() && (stat.mode & 0o022) === 0;
  // The command word: `run`, `container` (of `container ls`)...
  const word = args.find((arg) => !arg.startsWith('-')) ?? 'none';
  const key = /^[a-z][a-z-]{0,30}$/.test(word) ? word : 'other';
  const compiled = [];

  /** Runs a CommonJS bundle as `mod`, compiled with the cached data of an earlier run when there is some. */
  function runCached(mod, filename) {
    const id = fs.statSync(filename);
    const cacheDir = path.join(path.dirname(filename), 'v8-cache');
    const prefix = `${path.basename(filename, '.cjs')}-${key}-`;
    const cacheFile = path.join(cacheDir, `${prefix}${id.size}-${Math.round(id.mtimeMs)}-${id.ino}.bin`);
    let cachedData;
    try {
      if (trusted(id) && trusted(fs.statSync(cacheDir)) && trusted(fs.statSync(cacheFile))) cachedData = fs.readFileSync(cacheFile);
    } catch {
      // no cache yet
    }
    const script = new vm.Script(Module.wrap(fs.readFileSync(filename, 'utf8')), { filename, cachedData });
    compiled.push({ script, cacheDir, prefix, cacheFile, cached: cachedData !== undefined });
    script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(filename), mod, filename, path.dirname(filename));
  }

  // The bundles of isola's packages (a dist/*.cjs beside a package.json naming an @isola package or this
  // one); small ones (chunks of a few KB) compile faster than their cache would be read.
  const plainCjs = Module._extensions['.cjs'] ?? Module._extensions['.js'];
  Module._extensions['.cjs'] = (mod, filename) => {
    if (/\/dist\/[\w.-]+\.cjs$/.test(filename) && fs.statSync(filename).size >= 32768 && isolaPackage(path.dirname(path.dirname(filename)))) runCached(mod, filename);
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
  runCached(cli, bundle);
  cli.loaded = true;
  if (process.env.ISOLA_TIMING === '1') process.stderr.write(`isola-timing: cli loaded at ${performance.now().toFixed(1)} ms\n`);

  // Written once the command has run, so that the functions it compiled on the way are in it too; only
  // for isola's commands (a mistyped word would leave a cache behind each), replacing earlier builds' ones.
  const command = (id) => id === word || id.startsWith(`${word}:`);
  process.once('exit', () => {
    if (key !== 'none' && !Object.keys(cli.exports.COMMANDS ?? {}).some(command)) return;
    for (const { script, cacheDir, prefix, cacheFile, cached } of compiled) {
      if (cached && !script.cachedDataRejected) continue;
      try {
        fs.mkdirSync(cacheDir, { mode: 0o700, recursive: true });
        if (!trusted(fs.statSync(cacheDir))) continue;
        const temporary = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temporary, cacheFile);
        for (const name of fs.readdirSync(cacheDir)) {
          if (name.startsWith(prefix) && /^\d+-\d+-\d+\.bin$/.test(name.slice(prefix.length)) && name !== path.basename(cacheFile)) fs.rmSync(path.join(cacheDir, name), { force: true });
        }
      } catch {
        // a read-only install runs without a cache
      }
    }
  });
  cli.exports.run(args, pathToFileURL(__filename).href);
}
