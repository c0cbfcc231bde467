// Bundles isola-runtime (this package, @isola/sys and @isola/errors) into one CommonJS file,
// dist/isola-runtime.cjs: resolving and loading ~80 small modules costs more than Node's own start.
// CommonJS, so that bin/isola-runtime.cjs can compile it through vm.Script with a V8 code cache
// (Node 20 has no module.enableCompileCache; ES modules cannot take cached data there).
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

rmSync('dist/isola-runtime.mjs', { force: true }); // the ES module bundle of earlier builds
await build({
  input: 'dist/cli/main.js',
  platform: 'node',
  external: [/^node:/, 'koffi'],
  treeshake: true,
  logLevel: 'warn',
  output: { file: 'dist/isola-runtime.cjs', format: 'cjs', codeSplitting: false },
});
