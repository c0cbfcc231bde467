// isola img bench and convert against qemu-img on the same files, side by side in one run.
//
// Rows: 4 KiB reads and writes at queue depth 1 and 32, on raw and qcow2, with -t none (O_DIRECT), on a
// 1 GiB file of random data (qcow2: fully allocated, so writes overwrite in place); allocating qcow2
// writes on a fresh empty image; and convert of a 1 GiB raw file (768 MiB of data, 256 MiB of zeros)
// to qcow2, in the default cache mode and with -t none (and, for reading beside them, the library's
// convert() in this process). Both tools take the same arguments; bench rows
// compare the "Run completed in" time each prints (ops/s), convert rows the wall time of the whole
// command (isola's includes Node's start).
// Repetitions alternate which tool goes first; medians and isola/qemu ratios (> 1: isola is faster).
//
// Run after `npm run build`: node bench/qcow2/run.mjs   (BENCH_REPS=5, BENCH_DIR=/var/tmp/x to change;
// BENCH_ONLY=bench|alloc|convert runs one group of rows)
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomFillSync } from 'node:crypto';
import { warmPageCache } from '../support/page-cache.mjs';

// The Node processes this starts run without NODE_EXTRA_CA_CERTS, as on a machine that does not set it:
// Node 20 parses that certificate bundle at start-up (~60 ms of CPU here), before any of isola's code runs.
delete process.env.NODE_EXTRA_CA_CERTS;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REPS = Number(process.env.BENCH_REPS ?? 3);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'isola-qcow2-bench-'));
const GiB = 1024 ** 3;

/** `isola img <verb>` argv: the CLI when its command table has img, else the command class directly. */
function isolaCommand() {
  const bin = join(root, 'apps/cli/bin/isola.cjs');
  const probe = spawnSync(process.execPath, [bin, 'img', 'bench', '--help'], { encoding: 'utf8' });
  if (probe.status === 0) return { argv: (verb, args) => [bin, 'img', verb, ...args], how: 'apps/cli/bin/isola.cjs img' };
  const runner = join(dir, 'img.mjs');
  writeSync(
    openSync(runner, 'w'),
    `const [verb, ...rest] = process.argv.slice(2);\n` +
      `const mod = await import(${JSON.stringify(join(root, 'apps/cli/dist/commands/img/'))} + verb + '.js');\n` +
      `await mod.default.run(rest, ${JSON.stringify(join(root, 'apps/cli'))});\n`,
  );
  return { argv: (verb, args) => [runner, verb, ...args], how: 'the img command classes (img is not in commands.ts yet)' };
}
const isola = isolaCommand();

function run(tool, verb, args) {
  const [cmd, argv] = tool === 'qemu' ? ['qemu-img', [verb, ...args]] : [process.execPath, isola.argv(verb, args)];
  const start = process.hrtime.bigint();
  const out = execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const reported = /Run completed in ([\d.]+) seconds/.exec(out);
  return reported ? Number(reported[1]) : wall;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function makeData(path, dataBytes, totalBytes) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(16 * 1024 * 1024);
  for (let at = 0; at < dataBytes; at += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, dataBytes - at), at);
  closeSync(fd);
  execFileSync('truncate', ['-s', String(totalBytes), path]);
}

console.log(`# isola img vs qemu-img (${execFileSync('qemu-img', ['--version'], { encoding: 'utf8' }).split('\n')[0]}), ${REPS} reps, medians`);
console.log(`# isola runs as ${isola.how}; files in ${dir}`);
const raw = join(dir, 'disk.raw');
const qcow2 = join(dir, 'disk.qcow2');
makeData(raw, GiB, GiB);
execFileSync('qemu-img', ['convert', '-O', 'qcow2', raw, qcow2]);
const source = join(dir, 'source.raw');
makeData(source, 0.75 * GiB, GiB);

const rows = [];
const only = (group) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY === group;
const benchRows = !only('bench') ? [] : [
  ['raw', raw, false, 1, 10000],
  ['raw', raw, false, 32, 40000],
  ['raw', raw, true, 1, 5000],
  ['raw', raw, true, 32, 40000],
  ['qcow2', qcow2, false, 1, 10000],
  ['qcow2', qcow2, false, 32, 40000],
  ['qcow2', qcow2, true, 1, 5000],
  ['qcow2', qcow2, true, 32, 40000],
];
for (const [format, file, write, depth, count] of benchRows) {
  const args = ['-f', format, '-t', 'none', '-c', String(count), '-d', String(depth), '-s', '4096', ...(write ? ['-w'] : []), file];
  const times = { qemu: [], isola: [] };
  for (let r = 0; r < REPS; r++) {
    for (const tool of r % 2 ? ['isola', 'qemu'] : ['qemu', 'isola']) times[tool].push(run(tool, 'bench', args));
  }
  rows.push({ row: `${format} 4K ${write ? 'write' : 'read'} QD${depth}`, unit: 'ops/s', qemu: count / median(times.qemu), isola: count / median(times.isola) });
}

// Allocating writes: a fresh empty qcow2 image for every run, so each request may allocate.
for (const depth of only('alloc') ? [1, 32] : []) {
  const count = depth === 1 ? 2000 : 10000;
  const times = { qemu: [], isola: [] };
  for (let r = 0; r < REPS; r++) {
    for (const tool of r % 2 ? ['isola', 'qemu'] : ['qemu', 'isola']) {
      const fresh = join(dir, `alloc-${tool}.qcow2`);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', fresh, '1G']);
      times[tool].push(run(tool, 'bench', ['-f', 'qcow2', '-t', 'none', '-w', '-c', String(count), '-d', String(depth), '-S', '65536', fresh]));
    }
  }
  rows.push({ row: `qcow2 4K allocating write QD${depth} (step 64K)`, unit: 'ops/s', qemu: count / median(times.qemu), isola: count / median(times.isola) });
}

// Each tool's default cache mode (qemu-img's 'unsafe': through the page cache, no flush), then -t none
// for both (O_DIRECT, flushed at the end): the same kind of I/O on both sides in either row.
// These rows move 768 MiB into the page cache: before each run, 1 GiB is written to a scratch file and
// deleted (untimed, for both tools alike; bench/support/page-cache.mjs says why).
// Seven: single runs of either tool range from 0.3 to over 1 s here, so the median needs more than a few.
const CONVERT_REPS = Math.max(REPS, 7);

/**
 * One convert row: `convertWith(tool, out)` converts the source to `out` and returns its seconds.
 * Runs alternate which tool goes first; the two results must hold the same disk.
 */
async function convertRow(row, note, convertWith) {
  const times = { qemu: [], isola: [] };
  for (let r = 0; r < CONVERT_REPS; r++) {
    for (const tool of r % 2 ? ['isola', 'qemu'] : ['qemu', 'isola']) {
      const out = join(dir, `converted-${tool}.qcow2`);
      rmSync(out, { force: true });
      // Untimed: the previous convert's 768 MiB of dirty pages would otherwise still be draining,
      // and the kernel throttles whichever tool writes next (measured: 4 s after a sync, 15-20 s without).
      execFileSync('sync');
      warmPageCache(dir, 1024);
      times[tool].push(await convertWith(tool, out));
    }
  }
  execFileSync('qemu-img', ['compare', join(dir, 'converted-qemu.qcow2'), join(dir, 'converted-isola.qcow2')]);
  rows.push({ row, unit: 'MiB/s', qemu: 1024 / median(times.qemu), isola: 1024 / median(times.isola) });
  console.log(`# ${note} seconds, in run order: qemu-img ${times.qemu.map((t) => t.toFixed(2)).join(' ')}; isola ${times.isola.map((t) => t.toFixed(2)).join(' ')}`);
}

for (const [label, cache] of only('convert') ? [['', []], [' -t none', ['-t', 'none']]] : []) {
  await convertRow(`convert 1 GiB raw -> qcow2${label} (wall)`, `convert${label}`, (tool, out) => run(tool, 'convert', ['-f', 'raw', '-O', 'qcow2', ...cache, source, out]));
}

// The same convert as a program that imports @isola/qcow2 makes it: convert() in this (already started)
// Node process, against the qemu-img command as above. For reading next to the rows above, whose isola
// side includes starting Node and the CLI; the targets are the rows above.
if (only('convert')) {
  const { convert } = await import(pathToFileURL(join(root, 'packages/qcow2/dist/index.js')).href);
  await convertRow('convert, library in process (info only)', 'convert() in process', async (tool, out) => {
    if (tool === 'qemu') return run('qemu', 'convert', ['-f', 'raw', '-O', 'qcow2', source, out]);
    const start = process.hrtime.bigint();
    await convert(source, out, { sourceFormat: 'raw', outputFormat: 'qcow2' });
    return Number(process.hrtime.bigint() - start) / 1e9;
  });
}

const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
console.log(`${'row'.padEnd(40)}${'qemu-img'.padStart(12)}${'isola'.padStart(12)}${'isola/qemu'.padStart(12)}`);
for (const r of rows) {
  console.log(`${r.row.padEnd(40)}${`${fmt(r.qemu)}`.padStart(12)}${`${fmt(r.isola)}`.padStart(12)}${(r.isola / r.qemu).toFixed(2).padStart(11)}x   ${r.unit}`);
}
if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
if (existsSync(dir)) console.log(`# kept ${dir}`);
