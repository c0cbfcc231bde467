// Bundles the CLI and oclif into one CommonJS file, dist/isola.cjs. Node spends most of oclif's ~150 ms
// start-up resolving and loading ~130 small modules; one file saves about half of it (bench/cli-startup).
// CommonJS, so that bin/isola.cjs can compile it through a V8 code cache (Node 20 cannot give cached
// data to an ES module), which saves most of the rest. Code compiled that way cannot run import()
// there (Node 20: "A dynamic import callback was not specified"), so dynamic imports become require():
// Node 20.19+ loads isola's ES module packages that way (none of them has a top-level await).
// isola's own packages stay external (commands import them lazily, when they run), except
// @isola/image: its ~60 modules cost `isola pull` 90-480 ms to resolve and load here, so it becomes
// one chunk of its own (dist/isola-*.cjs), loaded only by the image commands' dynamic import.
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'rolldown';

// the ES module bundle and chunks of earlier builds
for (const name of readdirSync('dist')) if (/^isola.*\.mjs$/.test(name)) rmSync(`dist/${name}`);

// oclif sorts its command ids with localeCompare, and a process's first localeCompare loads ICU's
// collation data: 25-40 ms of every command's start. The ids are lowercase ASCII words joined by ':'
// and '-', which sort the same way by code unit.
const plainCommandSort = {
  name: 'plain-command-sort',
  transform(code, id) {
    if (!id.replaceAll('\\', '/').endsWith('/@oclif/core/lib/config/plugin.js')) return null;
    const collated = '.sort((a, b) => a.id.localeCompare(b.id))';
    if (!code.includes(collated)) throw new Error(`${id}: oclif no longer sorts commands with ${collated}`);
    return code.replace(collated, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))');
  },
};

await build({
  input: 'dist/entry.js',
  platform: 'node',
  external: [/^node:/, /^@isola\/(?!image$)/, 'koffi', 'typescript', 'ts-node', 'tsx'],
  treeshake: true,
  logLevel: 'warn',
  plugins: [plainCommandSort],
  output: { dir: 'dist', format: 'cjs', entryFileNames: 'isola.cjs', chunkFileNames: 'isola-[name].cjs', dynamicImportInCjs: false },
});
