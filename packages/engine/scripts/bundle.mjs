// Bundles the engine with @isola/container, @isola/image and @isola/sys: Node spends more time
// resolving and loading their ~160 small modules than running `isola run` itself (measured: ~145 ms
// for the modules, ~55 ms for the bundle). Three outputs:
//   dist/engine.mjs   the package's ES module entry
//   dist/engine.cjs   the same as CommonJS, the package's `require` entry: the CLI requires it, and its
//                     bin compiles it through a V8 code cache (Node 20 gives none to ES modules)
//   dist/launch.cjs   the container launcher alone (monitor/launch.ts, the process that creates a
//                     detached container's init and becomes its monitor): it needs neither the image
//                     store nor networks, so it loads less than the engine; what `launch.cjs ... remove`
//                     needs comes in chunks (dist/launch-*.cjs) it requires only then. launch.cjs
//                     itself is scripts/launch-entry.cjs, which compiles the bundle (launch-main.cjs
//                     and the chunks) through a V8 code cache.
//   dist/launcher.cjs what starts a launcher (containers/launcher.ts, `@isola/engine/launcher`): a few KB,
//                     so that `isola run` starts the launcher before it loads the engine.
// LAUNCH_SCRIPT (monitor/launch-script.ts), the file the engine spawns as the launcher, points at
// dist/launch.cjs in all of them.
// @isola/errors stays shared (the CLI's error handler checks its class), @isola/wasm loads its .wasm
// files relative to its own dist, koffi is native.
// Built into a directory of its own and renamed into dist/ file by file, chunks before the files that
// require them, stale chunks removed last: a launcher started while the engine is rebuilt (a build
// beside a running bench, an nx cache restore) must never find a chunk missing or half-written. One
// did: "process that creates container ... ended (status 1) before reporting", at container #82 of 100.
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { build } from 'rolldown';

const shared = {
  platform: 'node',
  external: [/^node:/, '@isola/errors', '@isola/wasm', 'koffi'],
  treeshake: true,
  logLevel: 'warn',
};
/** In every bundle (all in dist/), the launcher is dist/launch.cjs. */
const launchScript = {
  name: 'launch-script',
  transform(code, id) {
    if (!id.replaceAll('\\', '/').endsWith('/dist/monitor/launch-script.js')) return null;
    const unbundled = "new URL('./launch.js', import.meta.url)";
    if (!code.includes(unbundled)) throw new Error(`${id}: LAUNCH_SCRIPT is no longer ${unbundled}`);
    return code.replace(unbundled, "new URL('./launch.cjs', import.meta.url)");
  },
};

// Node builtins that `run`, `ps` and the launcher do not use (layer unpacking, the -t terminal,
// workers): in the CommonJS bundles they are required when first used, not on load. Each
// `let node_x = require("node:x");` becomes a stand-in that requires it on first touch. (node:http and
// node:https would be worth it too, but @isola/image makes its keep-alive agents on load.)
const LAZY_BUILTINS = ['zlib', 'worker_threads', 'tty', 'stream/promises'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  renderChunk(code, chunk, options) {
    if (options.format !== 'cjs') return null;
    let lazy = 0;
    const result = code.replace(/^let (node_\w+) = require\("node:([\w/]+)"\);$/gm, (line, name, id) => {
      if (!LAZY_BUILTINS.includes(id)) return line;
      lazy++;
      return `let ${name} = __lazyBuiltin("node:${id}");`;
    });
    if (!lazy) return null;
    const helper = 'const __lazyBuiltin = (id) => { let m; const get = () => (m ??= require(id)); return new Proxy({}, { get: (_, k) => get()[k], has: (_, k) => k in get(), ownKeys: () => Reflect.ownKeys(get()), getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(get(), k); return d && { ...d, configurable: true }; } }); };\n';
    return { code: result.replace(/^(("use strict";|Object\.defineProperty\(exports, Symbol\.toStringTag.*)\n)?/, (head) => head + helper), map: null };
  },
};

const out = `dist/.bundle-${process.pid}`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
try {
  await build({ ...shared, input: 'dist/index.js', plugins: [launchScript], output: { file: `${out}/engine.mjs`, format: 'esm', codeSplitting: false } });
  await build({ ...shared, input: 'dist/index.js', plugins: [launchScript], output: { file: `${out}/engine.cjs`, format: 'cjs', codeSplitting: false, dynamicImportInCjs: false, plugins: [lazyBuiltins] } });
  await build({
    ...shared,
    input: 'dist/monitor/launch.js',
    plugins: [launchScript],
    output: { dir: out, format: 'cjs', entryFileNames: 'launch-main.cjs', chunkFileNames: 'launch-[name].cjs', dynamicImportInCjs: false, plugins: [lazyBuiltins] },
  });
  copyFileSync('scripts/launch-entry.cjs', `${out}/launch.cjs`);
  await build({ ...shared, input: 'dist/containers/launcher.js', plugins: [launchScript], output: { file: `${out}/launcher.cjs`, format: 'cjs', codeSplitting: false } });
  const made = readdirSync(out);
  const entries = ['launch.cjs', 'launcher.cjs', 'engine.cjs', 'engine.mjs'];
  for (const name of [...made.filter((n) => !entries.includes(n)), ...entries]) renameSync(`${out}/${name}`, `dist/${name}`);
  for (const name of readdirSync('dist')) if (/^launch-.*\.cjs$/.test(name) && !made.includes(name)) rmSync(`dist/${name}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
