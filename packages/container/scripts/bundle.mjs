// Bundles isola-runtime (this package, @isola/sys and @isola/errors) into one ES module,
// dist/isola-runtime.mjs: resolving and loading ~80 small modules costs more than Node's own start.
import { build } from 'rolldown';

await build({
  input: 'dist/cli/main.js',
  platform: 'node',
  external: [/^node:/, 'koffi'],
  treeshake: true,
  logLevel: 'warn',
  output: { file: 'dist/isola-runtime.mjs', format: 'esm', codeSplitting: false },
});
