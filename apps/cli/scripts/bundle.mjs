// Bundles the CLI and oclif into one CommonJS file, dist/isola.cjs. Node spends most of oclif's ~150 ms
// start-up resolving and loading ~130 small modules; one file saves about half of it (bench/cli-startup).
// CommonJS, so that bin/isola.cjs can compile it through a V8 code cache (Node 20 cannot give cached
// data to an ES module), which saves most of the rest. Code compiled that way cannot run import()
// there (Node 20: "A dynamic import callback was not specified"), so dynamic imports become require():
// Node 20.19+ loads isola's ES module packages that way (none of them has a top-level await).
// isola's own packages stay external (commands import them lazily, when they run), except
// @isola/image and @isola/qcow2: their ~60 and ~50 modules cost `isola pull` 90-480 ms and `isola img`
// ~80 ms to resolve and load here, so each becomes a chunk of its own (dist/isola-*.cjs), loaded only
// by its commands' dynamic import. @isola/errors and @isola/sys/files (the file syscalls qcow2 needs)
// are bundled too: both are ES modules, and the first ES module a process requires starts Node's ES
// module loader, ~10-15 ms; `isola img convert` then never starts it (sys/files loaded in 6-13 ms as
// CommonJS against 24-38 ms as ES modules). An error from another copy of @isola/errors (the engine's)
// is still an IsolaError: the class checks a brand, not its prototype.
// Built into a directory of its own and renamed into dist/ file by file, chunks first (as the engine's
// bundle is): a command started during a rebuild never finds a chunk missing or half-written.
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { build } from 'rolldown';

// the ES module bundle and chunks of earlier builds
for (const name of readdirSync('dist')) if (/^isola.*\.mjs$/.test(name)) rmSync(`dist/${name}`);
const out = `dist/.bundle-${process.pid}`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

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

// oclif checks at load that Node satisfies the CLI's package.json `engines`, with semver (its regexes
// are built on load: ~4 ms of every command). isola's package.json has no `engines`, so the check
// always ends in the TypeError it catches: it is dropped.
const noEngineCheck = {
  name: 'no-engine-check',
  transform(code, id) {
    if (!id.replaceAll('\\', '/').endsWith('/@oclif/core/lib/index.js')) return null;
    const call = '\ncheckNodeVersion();';
    if (!code.includes(call)) throw new Error(`${id}: oclif no longer calls checkNodeVersion() on load`);
    return code.replace(call, '\n');
  },
};

try {
  await build({
    input: 'dist/entry.js',
    platform: 'node',
    external: [/^node:/, /^@isola\/(?!(image|qcow2|errors|sys\/files)$)/, 'koffi', 'typescript', 'ts-node', 'tsx'],
    treeshake: true,
    logLevel: 'warn',
    plugins: [plainCommandSort, noEngineCheck],
    output: { dir: out, format: 'cjs', entryFileNames: 'isola.cjs', chunkFileNames: 'isola-[name].cjs', dynamicImportInCjs: false },
  });
  const made = readdirSync(out);
  for (const name of [...made.filter((n) => n !== 'isola.cjs'), 'isola.cjs']) renameSync(`${out}/${name}`, `dist/${name}`);
  for (const name of readdirSync('dist')) if (/^isola-.*\.cjs$/.test(name) && !made.includes(name)) rmSync(`dist/${name}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
