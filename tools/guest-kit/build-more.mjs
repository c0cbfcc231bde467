#!/usr/bin/env node
// Builds the guests beyond guest.c's variants, into the same cache directory as buildGuests() (whose
// hash covers every file in src/, these included):
//   smp      PVH ELF: vCPU 0 starts vCPU 1 through INIT/SIPI; both print (src/smp.c, src/ap16.S)
//   linux64  ELF entered through Linux's 64-bit boot protocol: reports boot_params and walks the ACPI
//            tables (src/linux64.c, src/entry64.S, link-linux64.ld)
//   mmio     the same entry: a few MMIO accesses for --trace-mmio (src/mmio.c)
//
//   node tools/guest-kit/build-more.mjs       prints the paths
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CFLAGS, buildGuests, buildOnce, run } from './build.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/** `{ smp, linux64, mmio }`: paths of the ELF files, built once per source tree. */
export function buildMoreGuests() {
  const { dir } = buildGuests();
  // buildGuests' hash covers src/; this script and its linker script are hashed here.
  const hash = createHash('sha256');
  for (const file of ['build-more.mjs', 'link-linux64.ld']) hash.update(readFileSync(join(here, file)));
  const out = join(dir, `more-${hash.digest('hex').slice(0, 12)}`);
  const paths = { smp: join(out, 'smp.elf'), linux64: join(out, 'linux64.elf'), mmio: join(out, 'mmio.elf') };
  buildOnce(out, (work) => {
    const src = join(here, 'src');
    const cc = (name) => run('gcc', [...CFLAGS, '-c', join(src, name), '-o', join(work, `${name}.o`)], work);
    for (const name of ['entry32.S', 'pvh-note.S', 'ap16.S', 'smp.c', 'entry64.S', 'linux64.c', 'mmio.c']) cc(name);
    const ld = (script, output, objects) =>
      run('ld', ['-nostdlib', '-static', '-z', 'noexecstack', '-T', join(here, script), '-o', output, ...objects.map((o) => join(work, `${o}.o`))], work);
    ld('link-pvh.ld', join(work, 'smp.elf'), ['entry32.S', 'pvh-note.S', 'smp.c', 'ap16.S']);
    ld('link-linux64.ld', join(work, 'linux64.elf'), ['entry64.S', 'linux64.c']);
    ld('link-linux64.ld', join(work, 'mmio.elf'), ['entry64.S', 'mmio.c']);
  });
  return paths;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(JSON.stringify(buildMoreGuests()));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
