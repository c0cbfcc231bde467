#!/usr/bin/env node
// Builds the guest kit: small freestanding guests for isola's hypervisor tests, each variant of
// src/guest.c linked twice, as a flat binary (real-mode entry at 0x8000) and as an ELF with a PVH note.
// Outputs go to ${ISOLA_CACHE_DIR:-~/.cache/isola}/guest-kit/<hash of the sources>/, so a change to
// any source (or to this script) builds afresh and an unchanged tree costs one hash.
//
//   node tools/guest-kit/build.mjs            prints the output directory
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Each variant is guest.c with -DGUEST_<NAME>; `hello` defines nothing extra. */
export const VARIANTS = ['hello', 'sse', 'int3', 'cx16', 'spin', 'echo', 'reset', 'pio', 'mmio', 'virtio', 'vblkbench', 'poweroff'];

/** The address the spin variant increments its 64-bit counter at. */
export const SPIN_COUNTER_ADDRESS = 0x7000;
/** The debug-exit status of a variant that passed. */
export const PASS_STATUS = 42;
/** How many port or MMIO writes the pio and mmio variants make before they exit. */
export const BENCH_EXITS = 20000;

const TOOLS = ['gcc', 'ld', 'objcopy'];
export const CFLAGS = [
  '-O2', '-ffreestanding', '-nostdlib', '-mgeneral-regs-only', '-mno-red-zone', '-fno-pic', '-fno-pie', '-static',
  '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-fno-builtin', '-fno-tree-loop-distribute-patterns',
  '-fcf-protection=none', '-Wall', '-Werror',
];

function which(tool) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // not here
    }
  }
  return undefined;
}

export function cacheRoot() {
  return join(process.env.ISOLA_CACHE_DIR || join(homedir(), '.cache', 'isola'), 'guest-kit');
}

function sourceHash() {
  const hash = createHash('sha256');
  const files = [...readdirSync(join(here, 'src')).map((f) => join('src', f)), 'link-flat.ld', 'link-pvh.ld', 'build.mjs'].sort();
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(here, file))).update('\0');
  hash.update(CFLAGS.join(' '));
  return hash.digest('hex').slice(0, 16);
}

/** Runs a build tool; fails naming the command and its stderr, or the missing tool. */
export function run(tool, args, cwd) {
  try {
    execFileSync(tool, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error(`guest-kit: cannot build the guests without ${tool} (apt-get install gcc binutils)`);
    const stderr = error.stderr?.toString().trim() ?? '';
    throw new Error(`guest-kit: ${tool} ${args.join(' ')} failed${stderr ? `:\n${stderr}` : ''}`, { cause: error });
  }
}

/**
 * Runs `build(work)` once per output directory: in a private directory renamed into place at the end,
 * so that test files that build at the same time each get a whole build, never a half-written one.
 */
export function buildOnce(out, build) {
  if (existsSync(join(out, 'done'))) return;
  const work = `${out}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(work, { recursive: true });
  try {
    build(work);
    writeFileSync(join(work, 'done'), new Date().toISOString());
    try {
      renameSync(work, out);
    } catch (error) {
      // Another process finished the same build first: use theirs.
      if (!existsSync(join(out, 'done'))) throw error;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

function guestPaths(dir) {
  const paths = {};
  for (const variant of VARIANTS) paths[variant] = { flat: join(dir, `${variant}.bin`), pvh: join(dir, `${variant}.elf`) };
  return paths;
}

/**
 * Builds every variant unless this source tree's build is already cached, and returns
 * `{ dir, guests: { hello: { flat, pvh }, ... } }`. Fails naming the missing tool when gcc or
 * binutils are not installed.
 */
export function buildGuests() {
  const dir = join(cacheRoot(), sourceHash());
  if (existsSync(join(dir, 'done'))) return { dir, guests: guestPaths(dir) };
  const absent = TOOLS.filter((tool) => !which(tool));
  if (absent.length > 0) {
    throw new Error(`guest-kit: cannot build the test guests without ${absent.join(', ')} (apt-get install gcc binutils)`);
  }
  buildOnce(dir, (work) => {
    const src = join(here, 'src');
    for (const name of ['entry16', 'entry32', 'pvh-note']) run('gcc', [...CFLAGS, '-c', join(src, `${name}.S`), '-o', join(work, `${name}.o`)], work);
    for (const variant of VARIANTS) {
      const object = join(work, `guest-${variant}.o`);
      const define = variant === 'hello' ? [] : [`-DGUEST_${variant.toUpperCase()}`];
      run('gcc', [...CFLAGS, ...define, '-c', join(src, 'guest.c'), '-o', object], work);
      const flatElf = join(work, `${variant}.flat.elf`);
      run('ld', ['-nostdlib', '-static', '-z', 'noexecstack', '-T', join(here, 'link-flat.ld'), '-o', flatElf, join(work, 'entry16.o'), join(work, 'entry32.o'), object], work);
      run('objcopy', ['-O', 'binary', flatElf, join(work, `${variant}.bin`)], work);
      run('ld', ['-nostdlib', '-static', '-z', 'noexecstack', '-T', join(here, 'link-pvh.ld'), '-o', join(work, `${variant}.elf`), join(work, 'entry32.o'), join(work, 'pvh-note.o'), object], work);
    }
  });
  return { dir, guests: guestPaths(dir) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(buildGuests().dir);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
