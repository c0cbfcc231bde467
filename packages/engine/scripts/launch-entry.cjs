'use strict';
// dist/launch.cjs: the container launcher's entry (monitor/launch.ts, bundled as dist/launch-main.cjs
// and its launch-*.cjs chunks). Every `run -d`, `create` and `start` starts a Node process on this
// file, which then creates the container's init: compiling ~350 KB of bundle took it 130-240 ms on a
// loaded 2-core machine, ~60-140 ms through a V8 code cache. So the bundle is compiled as the CLI's
// bin/isola.cjs compiles the CLI: with the cached data of an earlier run, kept in dist/v8-cache, read
// only if this user wrote it and nobody else can (it is code that will run), and keyed by the file's
// size, mtime and inode (V8 itself only checks the source's length). A missing or rejected cache is
// written by saveCodeCache(), which the launcher calls once it has reported to its caller, just before
// it execs the monitor (so the functions it compiled on the way are in it), or at exit.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const cacheDir = path.join(__dirname, 'v8-cache');
const trusted = (stat) => stat.uid === process.geteuid() && (stat.mode & 0o022) === 0;
const toWrite = [];

const plain = Module._extensions['.cjs'] ?? Module._extensions['.js'];
Module._extensions['.cjs'] = (mod, filename) => {
  if (path.dirname(filename) !== __dirname || !/^launch-[\w.-]+\.cjs$/.test(path.basename(filename))) return plain(mod, filename);
  const id = fs.statSync(filename);
  const prefix = `${path.basename(filename, '.cjs')}-`;
  const cacheFile = path.join(cacheDir, `${prefix}${id.size}-${Math.round(id.mtimeMs)}-${id.ino}.bin`);
  let cachedData;
  try {
    if (trusted(id) && trusted(fs.statSync(cacheDir)) && trusted(fs.statSync(cacheFile))) cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(filename, 'utf8')), { filename, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) toWrite.push({ script, prefix, cacheFile });
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(filename), mod, filename, __dirname);
};

/** Writes the caches that were missing or rejected, replacing earlier builds' ones. Never throws. */
function saveCodeCache() {
  for (const { script, prefix, cacheFile } of toWrite.splice(0)) {
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
}
module.exports = { saveCodeCache };
process.once('exit', saveCodeCache);

require('./launch-main.cjs');
