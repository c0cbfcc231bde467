'use strict';
// dist/launch.cjs: the container launcher's entry (monitor/launch.ts, bundled as dist/launch-main.cjs
// and its launch-*.cjs chunks). Every `run -d`, `create` and `start` starts a Node process on this
// file, which then creates the container's init: compiling ~350 KB of bundle took it 130-240 ms on a
// loaded 2-core machine, ~60-140 ms through a V8 code cache. So the bundle is compiled as the CLI's
// bin/isola.cjs compiles the CLI, through @isola/code-cache, with caches kept in dist/v8-cache. A
// missing or rejected cache is written by saveCodeCache(), which the launcher calls once it has reported
// to its caller, just before it execs the monitor (so the functions it compiled on the way are in it),
// or at exit.
const path = require('node:path');
const Module = require('node:module');
const { runCached, saveCaches } = require('@isola/code-cache');

const cacheDir = path.join(__dirname, 'v8-cache');

const plain = Module._extensions['.cjs'] ?? Module._extensions['.js'];
Module._extensions['.cjs'] = (mod, filename) => {
  if (path.dirname(filename) !== __dirname || !/^launch-[\w.-]+\.cjs$/.test(path.basename(filename))) return plain(mod, filename);
  runCached(mod, filename, { cacheDir, prefix: `${path.basename(filename, '.cjs')}-` });
};

module.exports = { saveCodeCache: saveCaches };
process.once('exit', saveCaches);

require('./launch-main.cjs');
