// Bundles the engine with @isola/container, @isola/image and @isola/sys: Node spends more time
// resolving and loading their ~160 small modules than running `isola run` itself (measured: ~145 ms
// for the modules, ~55 ms for the bundle). Three outputs:
//   dist/engine.mjs   the package's ES module entry
//   dist/engine.cjs   the same as CommonJS, the package's `require` entry: the CLI requires it, and its
//                     bin compiles it through a V8 code cache (Node 20 gives none to ES modules)
//   dist/launch.cjs   the container launcher alone (monitor/launch.ts, the process that creates a
//                     detached container's init and becomes its monitor): it needs neither the image
//                     store nor networks, so it loads less than the engine; what `launch.cjs ... remove`
//                     needs comes in chunks (dist/launch-*.cjs) it requires only then.
// LAUNCH_SCRIPT, the file the engine spawns as the launcher, points at dist/launch.cjs in all three.
// @isola/errors stays shared (the CLI's error handler checks its class), @isola/wasm loads its .wasm
// files relative to its own dist, koffi is native.
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'rolldown';

const shared = {
  platform: 'node',
  external: [/^node:/, '@isola/errors', '@isola/wasm', 'koffi'],
  treeshake: true,
  logLevel: 'warn',
};
/** In the engine's bundles, the launcher is dist/launch.cjs; in launch.cjs, itself. */
const launchScript = {
  name: 'launch-script',
  transform(code, id) {
    if (!id.endsWith('/dist/monitor/launch.js')) return null;
    const own = 'fileURLToPath(import.meta.url)';
    if (!code.includes(own)) throw new Error(`${id}: LAUNCH_SCRIPT is no longer ${own}`);
    return code.replace(own, "fileURLToPath(new URL('./launch.cjs', import.meta.url))");
  },
};

for (const name of readdirSync('dist')) if (/^launch-.*\.cjs$/.test(name)) rmSync(`dist/${name}`);
await build({ ...shared, input: 'dist/index.js', plugins: [launchScript], output: { file: 'dist/engine.mjs', format: 'esm', codeSplitting: false } });
await build({ ...shared, input: 'dist/index.js', plugins: [launchScript], output: { file: 'dist/engine.cjs', format: 'cjs', codeSplitting: false, dynamicImportInCjs: false } });
await build({
  ...shared,
  input: 'dist/monitor/launch.js',
  output: { dir: 'dist', format: 'cjs', entryFileNames: 'launch.cjs', chunkFileNames: 'launch-[name].cjs', dynamicImportInCjs: false },
});
