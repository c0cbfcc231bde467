// Bundles the engine with @isola/container, @isola/image and @isola/sys into one ES module,
// dist/engine.mjs: Node spends more time resolving and loading their ~160 small modules than
// running `isola run` itself (measured: ~145 ms for the modules, ~55 ms for the bundle).
// It is also the script the container launcher runs (monitor/launch.ts: LAUNCH_SCRIPT is this file).
// @isola/errors stays shared (the CLI's error handler checks its class), @isola/wasm loads its .wasm
// files relative to its own dist, koffi is native.
import { build } from 'rolldown';

await build({
  input: 'dist/index.js',
  platform: 'node',
  external: [/^node:/, '@isola/errors', '@isola/wasm', 'koffi'],
  treeshake: true,
  logLevel: 'warn',
  output: { file: 'dist/engine.mjs', format: 'esm', codeSplitting: false },
});
