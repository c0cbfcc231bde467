// isola's VMM next to QEMU (-M microvm with KVM), on the same guest-kit guests, side by side:
//  - launch → first serial byte: a fresh process each (node bench/vmm/boot.mjs, qemu-system-x86_64),
//    from spawn to the first byte on its stdout; and the process's peak RSS (/usr/bin/time -f %M);
//  - exit round trips: the pio and mmio variants make BENCH_EXITS port / MMIO writes between two
//    lines of output; the time between those lines over BENCH_EXITS is the cost of one exit handled
//    by the monitor, guest loop included;
//  - the cost of handing an access to the main thread instead (bench/vmm/roundtrip.mjs);
//  - launch → first byte through the CLI too (`isola vm run`, oclif included), and two floors: a bare
//    `node -e` (what any Node monitor starts from) and a node whose worker_thread sends the byte (what
//    a monitor with a vCPU thread starts from); the isola launch split into phases (boot.mjs);
//  - RSS split into anonymous and file-backed pages (bench/vmm/memory.mjs);
//  - virtio-blk 4 KiB QD1 reads per second (bench/vmm/virtio-blk.mjs), when qemu-img is installed.
// Repetitions alternate between the two monitors so background load hits both alike; medians.
//   node bench/vmm/run.mjs [reps]        (after npm run build; apt-get install qemu-system-x86)
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BENCH_EXITS, buildGuests } from '../../tools/guest-kit/build.mjs';
import { watchMemory } from './memory.mjs';

// The Node processes this starts run without NODE_EXTRA_CA_CERTS, as on a machine that does not set it:
// Node 20 parses that certificate bundle at start-up (~60 ms of CPU here), before any of isola's code runs.
delete process.env.NODE_EXTRA_CA_CERTS;

const REPS = Number(process.argv[2] ?? 7);
const here = fileURLToPath(new URL('.', import.meta.url));
const { guests } = buildGuests();
const TIME = '/usr/bin/time';

function which(tool) {
  try {
    return execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

const qemu = which('qemu-system-x86_64');
const cli = fileURLToPath(new URL('../../apps/cli/bin/isola.cjs', import.meta.url));
const monitors = {
  isola: (elf) => [process.execPath, [`${here}boot.mjs`, elf, 'pvh']],
  // Launch only (the hello guest): the CLI's own cost on top of the library's, and Node's floor.
  ...(existsSync(cli) && { 'isola-cli': (elf) => [process.execPath, [cli, 'vm', 'run', '--mem', '16', '--kernel', elf]] }),
  'node -e': () => [process.execPath, ['-e', 'process.stdout.write("x")']],
  'node+wkr': () => [
    process.execPath,
    ['-e', 'const { Worker } = require("node:worker_threads"); new Worker("require(\'node:worker_threads\').parentPort.postMessage(1)", { eval: true }).once("message", () => process.stdout.write("x"))'],
  ],
  ...(qemu && {
    qemu: (elf) => [
      qemu,
      ['-M', 'microvm,x-option-roms=off,rtc=off', '-enable-kvm', '-cpu', 'host,-arch-capabilities', '-m', '16', '-nodefaults', '-no-user-config', '-nographic',
        '-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0x501,iosize=2', '-kernel', elf, '-append', 'console=ttyS0'],
    ],
  }),
};

/**
 * Runs one launch: ms to the first stdout byte, ms between the "hello" line and "done", peak RSS in KiB,
 * the RSS split at its largest sample, and (isola) the phases boot.mjs reports.
 */
function launch(monitor, elf) {
  const [command, args] = monitors[monitor](elf);
  const useTime = existsSync(TIME);
  const env = { ...process.env, ISOLA_BENCH_PHASES: monitor === 'isola' ? '1' : '0' };
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = useTime
      ? spawn(TIME, ['-f', '%M', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const memory = watchMemory(child.pid, { throughTime: useTime });
    let first;
    let helloAt;
    let doneAt;
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      const now = performance.now();
      first ??= now - start;
      out += chunk;
      if (helloAt === undefined && out.includes('hello from the guest\n')) helloAt = now;
      if (doneAt === undefined && out.includes('done\n')) doneAt = now;
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', () => {
      const split = memory.stop();
      const lines = err.trim().split('\n');
      const rss = Number(lines.at(-1));
      let phases;
      try {
        // /usr/bin/time adds its "exited with non-zero status" line and %M after it.
        phases = monitor === 'isola' ? JSON.parse(lines.findLast((line) => line.startsWith('{')) ?? 'null') ?? undefined : undefined;
      } catch {
        // an older boot.mjs, or the launch failed: no phases
      }
      if (first === undefined) return reject(new Error(`${monitor} printed nothing: ${err}`));
      resolve({ firstByteMs: first, loopMs: doneAt !== undefined && helloAt !== undefined ? doneAt - helloAt : undefined, rssKiB: Number.isFinite(rss) ? rss : undefined, split, phases });
    });
  });
}

const median = (values) => {
  const v = values.filter((x) => x !== undefined).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : undefined;
};

const samples = {};
// Variants outside, monitors inside: the two runs of one exit loop are seconds apart, not a minute.
for (let rep = 0; rep < REPS; rep++) {
  for (const variant of ['hello', 'pio', 'mmio']) {
    for (const monitor of Object.keys(monitors)) {
      if (variant !== 'hello' && monitor !== 'isola' && monitor !== 'qemu') continue;
      const r = await launch(monitor, guests[variant].pvh);
      ((samples[monitor] ??= {})[variant] ??= []).push(r);
    }
  }
}

const report = {};
for (const [monitor, byVariant] of Object.entries(samples)) {
  report[monitor] = {
    firstByteMs: median(byVariant.hello.map((r) => r.firstByteMs)),
    peakRssMiB: median(byVariant.hello.map((r) => r.rssKiB && r.rssKiB / 1024)),
    pioExitUs: byVariant.pio && median(byVariant.pio.map((r) => r.loopMs && (r.loopMs * 1000) / BENCH_EXITS)),
    mmioExitUs: byVariant.mmio && median(byVariant.mmio.map((r) => r.loopMs && (r.loopMs * 1000) / BENCH_EXITS)),
    anonMiB: median(byVariant.hello.map((r) => r.split && r.split.anonKiB / 1024)),
    fileMiB: median(byVariant.hello.map((r) => r.split && r.split.fileKiB / 1024)),
    pioPeakRssMiB: byVariant.pio && median(byVariant.pio.map((r) => r.rssKiB && r.rssKiB / 1024)),
  };
}
const phaseNames = ['node', 'import', 'createVm', 'start', 'firstByte'];
const phases = Object.fromEntries(phaseNames.map((name) => [name, median(samples.isola.hello.map((r) => r.phases?.[name]))]));
let roundtrip = {};
try {
  roundtrip = JSON.parse(execFileSync(process.execPath, [`${here}roundtrip.mjs`, '20000'], { timeout: 120_000 }).toString());
} catch (error) {
  // Seen here under heavy load: the mailbox ping-pong stalls. The launch figures stand without it.
  console.error(`roundtrip.mjs gave no figures: ${error.message.split('\n')[0]}`);
}
const fmt = (v, d = 1) => (v === undefined ? '-' : v.toFixed(d));
console.log(`guest-kit PVH guests, 16 MiB, ${REPS} launches each, medians`);
console.log('monitor   first byte (ms)   peak RSS (MiB)   anon / file (MiB)   PIO exit (µs)   MMIO exit (µs)   RSS after 20k PIO exits');
for (const [monitor, r] of Object.entries(report)) {
  console.log(
    `${monitor.padEnd(9)} ${fmt(r.firstByteMs).padStart(15)}   ${fmt(r.peakRssMiB).padStart(14)}   ${`${fmt(r.anonMiB)} / ${fmt(r.fileMiB)}`.padStart(17)}   ` +
      `${fmt(r.pioExitUs, 2).padStart(13)}   ${fmt(r.mmioExitUs, 2).padStart(14)}   ${fmt(r.pioPeakRssMiB).padStart(23)}`,
  );
}
const step = (from, to) => (phases[from] !== undefined && phases[to] !== undefined ? fmt(phases[to] - phases[from]) : '-');
console.log(
  `isola launch phases (ms, medians): node bootstrap ${fmt(phases.node)}, import @isola/hypervisor ${step('node', 'import')}, ` +
    `createVm ${step('import', 'createVm')}, start (vCPU worker loaded, vCPU handed over) ${step('createVm', 'start')}, to the first byte ${step('start', 'firstByte')}; ` +
    `first byte at ${fmt(phases.firstByte)} in-process`,
);
if (report.qemu) {
  const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '-');
  console.log(`isola/qemu: first byte ${ratio(report.isola.firstByteMs, report.qemu.firstByteMs)}× (target ≤ 0.5; through the CLI ${ratio(report['isola-cli']?.firstByteMs, report.qemu.firstByteMs)}×, ` +
    `bare node -e ${ratio(report['node -e'].firstByteMs, report.qemu.firstByteMs)}×, node with a worker ${ratio(report['node+wkr'].firstByteMs, report.qemu.firstByteMs)}×), ` +
    `RSS ${ratio(report.isola.peakRssMiB, report.qemu.peakRssMiB)}× (node -e alone ${ratio(report['node -e'].peakRssMiB, report.qemu.peakRssMiB)}×, with a worker ${ratio(report['node+wkr'].peakRssMiB, report.qemu.peakRssMiB)}×), ` +
    `exits/s ${ratio(report.qemu.pioExitUs, report.isola.pioExitUs)}× PIO, ${ratio(report.qemu.mmioExitUs, report.isola.mmioExitUs)}× MMIO (target ≥ 1)`);
} else {
  console.log('qemu-system-x86_64 is not installed: isola only (apt-get install qemu-system-x86 for the comparison)');
}
console.log(`device access handed to the main thread and back: ${fmt(roundtrip.atomicsUs, 2)} µs (Atomics), ${fmt(roundtrip.postMessageUs, 2)} µs (postMessage); a call in the vCPU worker: ${fmt(roundtrip.localCallUs, 2)} µs`);
let virtioBlk;
if (qemu && which('qemu-img')) {
  virtioBlk = execFileSync(process.execPath, [`${here}virtio-blk.mjs`, String(Math.max(3, Math.ceil(REPS / 2)))]).toString().trim().split('\n');
  console.log(virtioBlk.slice(0, 2).join('\n'));
}
console.log(JSON.stringify({ report, phases, roundtrip, virtioBlk: virtioBlk && JSON.parse(virtioBlk.at(-1)) }));
