#!/usr/bin/env node
// Builds what `isola compare` runs, from compare/ (the same spin.S linked into both):
//   guest.elf  a PVH guest: prints hello, times spin_timed(N) for loop=N on its command line, exits 42
//   loop       a static Linux binary without libc: `loop N` times the same spin_timed(N)
// Outputs go to ${ISOLA_CACHE_DIR:-~/.cache/isola}/guest-kit/compare-<hash of the sources>/.
//
//   node tools/guest-kit/build-compare.mjs    prints the paths
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CFLAGS, buildOnce, cacheRoot, run } from './build.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const INPUTS = ['build-compare.mjs', 'build.mjs', 'link-pvh.ld', 'src/entry32.S', 'src/pvh-note.S', 'src/kit.h', ...readdirSync(join(here, 'compare')).map((f) => `compare/${f}`)];

/** `{ guest, loop }`: the PVH guest ELF and the static loop binary, built once per source tree. */
export function buildCompareGuests() {
  const hash = createHash('sha256');
  for (const file of INPUTS.sort()) hash.update(file).update('\0').update(readFileSync(join(here, file))).update('\0');
  const out = join(cacheRoot(), `compare-${hash.digest('hex').slice(0, 16)}`);
  const paths = { guest: join(out, 'guest.elf'), loop: join(out, 'loop') };
  buildOnce(out, (work) => {
    const cc = (source, object) => run('gcc', [...CFLAGS, '-c', join(here, source), '-o', join(work, object)], work);
    cc('src/entry32.S', 'entry32.o');
    cc('src/pvh-note.S', 'pvh-note.o');
    cc('compare/spin.S', 'spin.o');
    cc('compare/guest.c', 'guest.o');
    cc('compare/loop.c', 'loop.o');
    const ld = (args) => run('ld', ['-nostdlib', '-static', '-z', 'noexecstack', ...args], work);
    ld(['-T', join(here, 'link-pvh.ld'), '-o', paths.guest.replace(out, work), 'entry32.o', 'pvh-note.o', 'guest.o', 'spin.o']);
    ld(['-e', '_start', '-o', paths.loop.replace(out, work), 'loop.o', 'spin.o']);
  });
  return paths;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(JSON.stringify(buildCompareGuests()));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
