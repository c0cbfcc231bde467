'use strict';
// @isola/code-cache: runs a CommonJS file compiled through a V8 code cache, for isola's entry scripts
// (apps/cli/bin/isola.cjs, packages/container/bin/isola-runtime.cjs and the engine's dist/launch.cjs).
// Compiling their bundles was the largest part of each start: ~350 KB took the launcher 130-240 ms on a
// loaded 2-core machine, ~60-140 ms through a cache. Node 20 has no module.enableCompileCache and gives
// ES modules no cached data, hence CommonJS and vm.Script. Each caller keeps its own policy: which
// files, where their caches live and under which prefix, and when saveCaches() runs.
// Dependency-free and CommonJS on purpose: it is loaded on every start, before anything else.
//
// A cache is only read if this user owns it, its directory and the file it was made from, and nobody
// else can write any of them: cached data is code that will run. It is keyed by the file's size, mtime
// and inode (read from the open file, so key and source always match), since V8 itself only checks the
// source's length. It is written once the caller has done its work (so the functions compiled on the way
// are in it), to a temporary file renamed into place, and replaces the caches of earlier builds.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

/** Owned by this user and writable by no one else. */
const trusted = (stat) => stat.uid === process.geteuid() && (stat.mode & 0o022) === 0;
// Lets the bundle's import() load modules as Node's own CommonJS loader would (without it, Node 20
// throws "A dynamic import callback was not specified"). Node 20.12+.
const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
/** Compiled scripts whose cache was missing or rejected, for saveCaches(). */
const unsaved = [];

/** The cache file of a file with this identity: `<prefix><size>-<mtime>-<inode>.bin`. */
function cacheName(prefix, stat) {
  return `${prefix}${stat.size}-${Math.round(stat.mtimeMs)}-${stat.ino}.bin`;
}

/** The cached data at cacheFile, when it and its directory can be trusted; else undefined. */
function readCache(cacheDir, cacheFile) {
  try {
    if (trusted(fs.statSync(cacheDir)) && trusted(fs.statSync(cacheFile))) return fs.readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
  return undefined;
}

/**
 * Runs the CommonJS file `filename` as the module `mod` (what require() would do: `mod.exports` is what
 * it exports), compiled with the cached data that an earlier run saved in `cacheDir` under `prefix`.
 * Returns where that cache lives and whether it was 'read', 'rejected' by V8, or 'missing' (none, or
 * not trusted).
 */
function runCached(mod, filename, { cacheDir, prefix }) {
  const fd = fs.openSync(filename, 'r');
  let source, stat;
  try {
    stat = fs.fstatSync(fd);
    source = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  const cacheFile = path.join(cacheDir, cacheName(prefix, stat));
  const cachedData = trusted(stat) ? readCache(cacheDir, cacheFile) : undefined;
  const script = new vm.Script(Module.wrap(source), { filename, cachedData, importModuleDynamically });
  const status = cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'read';
  if (status !== 'read') unsaved.push({ script, cacheDir, prefix, cacheFile });
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(filename), mod, filename, path.dirname(filename));
  return { cacheFile, status };
}

/** Writes the caches that were missing or rejected, and removes earlier builds' ones. Never throws. */
function saveCaches() {
  for (const { script, cacheDir, prefix, cacheFile } of unsaved.splice(0)) {
    const temporary = `${cacheFile}.${process.pid}`;
    try {
      fs.mkdirSync(cacheDir, { mode: 0o700, recursive: true });
      if (!trusted(fs.statSync(cacheDir))) continue;
      fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(temporary, cacheFile);
      const current = path.basename(cacheFile);
      for (const name of fs.readdirSync(cacheDir)) {
        if (name !== current && name.startsWith(prefix) && /^\d+-\d+-\d+\.bin$/.test(name.slice(prefix.length))) fs.rmSync(path.join(cacheDir, name), { force: true });
      }
    } catch {
      // a read-only install runs without a cache
      try {
        fs.rmSync(temporary, { force: true });
      } catch {
        // nothing was written
      }
    }
  }
}

module.exports = { runCached, saveCaches };
