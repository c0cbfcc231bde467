// Bundles the CLI and oclif into one ES module, dist/isola.mjs. Node spends most of oclif's ~150 ms
// start-up resolving and loading ~130 small modules; one file saves about half of it (bench/cli-startup).
// isola's own packages stay external: commands import them lazily, when they run.
import { build } from 'rolldown';

await build({
  input: 'dist/entry.js',
  platform: 'node',
  external: [/^node:/, /^@isola\//, 'koffi', 'typescript', 'ts-node', 'tsx'],
  treeshake: true,
  logLevel: 'warn',
  output: { file: 'dist/isola.mjs', format: 'esm', codeSplitting: false },
});
