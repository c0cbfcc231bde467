#!/usr/bin/env node
// `isola run` side by side with podman, in one run, on the same image (issue #5 targets):
//   1. `isola run --rm --network none busybox true` vs `podman run --rm --network=none` (interleaved rounds,
//      medians)                                                              target <= 0.25x podman
//   2. N detached `sleep` containers (default 100; PODMAN_N for podman, default N): the time to start
//      them all (interleaved), the memory of what each tool leaves running per container (isola's monitor vs
//      podman's conmon: proportional set size from /proc/PID/smaps_rollup), and the time to remove
//      them all with `rm -f`.
// Both tools use private state directories that are removed afterwards. The image is the embedded
// busybox OCI layout from tools/setup.sh, copied into podman's storage with skopeo.
// podman needs the ulimit flags of shared/MACHINE.md on these machines (hard RLIMIT_NOFILE 20000), and
// runc as its runtime (its default, crun, refuses hybrid cgroup hosts).
// ISOLA_BASELINE=path/to/other/bin/isola.cjs adds another isola build (e.g. a checkout before a change)
// to both parts, interleaved with the others, so that a change is measured against its parent in one run.
// Part 1 also prints where isola's time goes: the medians of its phase marks (ISOLA_TIMING=1: the
// command's start, engine loaded, rootfs mounted, init created...), and its CPU time (user + system,
// from /usr/bin/time), which the machine's other load disturbs less than the wall time.
// N=0 skips part 2; PODMAN_N=0 leaves podman out of it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The Node processes this starts run without NODE_EXTRA_CA_CERTS, as on a machine that does not set it:
// Node 20 parses that certificate bundle at start-up (~60 ms of CPU here), before any of isola's code runs.
delete process.env.NODE_EXTRA_CA_CERTS;

const rounds = Number(process.env.ROUNDS ?? 10);
const n = Number(process.env.N ?? 100);
const podmanN = Number(process.env.PODMAN_N ?? n);
const cache = process.env.ISOLA_CACHE_DIR ?? join(homedir(), '.cache/isola');
const layout = join(cache, 'images/busybox');
if (!existsSync(join(layout, 'index.json'))) {
  console.error(`bench/run: ${layout} is missing: run tools/setup.sh first`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'isola-bench-run-'));
const isolaBin = fileURLToPath(new URL('../../apps/cli/bin/isola.cjs', import.meta.url));
const isolaEnv = { ...process.env, ISOLA_ROOT: join(work, 'isola') };
const podmanArgs = ['--root', join(work, 'podman/root'), '--runroot', join(work, 'podman/run'), '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--runtime', 'runc'];
const podmanRunFlags = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768', '--network=none'];
const podmanImage = 'localhost/isola-busybox:latest';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
let lastStderr = '';
function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  lastStderr = r.stderr;
  return r.stdout;
}
const isola = (...args) => run(process.execPath, [isolaBin, ...args], isolaEnv);
const baselineBin = process.env.ISOLA_BASELINE;
const baselineEnv = { ...process.env, ISOLA_ROOT: join(work, 'isola-baseline') };
const baseline = (...args) => run(process.execPath, [baselineBin, ...args], baselineEnv);
// Part 1's isola runs: timed by /usr/bin/time too (CPU), with the phase marks on.
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const traced = (bin, env) => (...args) =>
  timeBin ? run(timeBin, ['-f', 'isola-cpu: %U %S', process.execPath, bin, ...args], { ...env, ISOLA_TIMING: '1' }) : run(process.execPath, [bin, ...args], { ...env, ISOLA_TIMING: '1' });
/** The phase marks and CPU time of the last traced run. */
function trace() {
  const phases = Object.fromEntries([...lastStderr.matchAll(/^isola-timing: (.+) at ([\d.]+) ms$/gm)].map((m) => [m[1].replace(/^\S+ starts$/, 'command starts'), Number(m[2])]));
  const cpu = /^isola-cpu: ([\d.]+) ([\d.]+)$/m.exec(lastStderr);
  return { phases, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined };
}
const podman = (...args) => run('podman', [...podmanArgs, ...args]);
const timed = (f) => {
  const t0 = process.hrtime.bigint();
  f();
  return ms(t0);
};
/** Proportional set size in KiB (shared pages split between the processes sharing them). */
function pss(pid) {
  const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

try {
  // --- setup: the same image in both tools, one warm-up run each ----------------------------------
  run('skopeo', ['copy', '-q', `oci:${layout}:latest`, `containers-storage:[overlay@${join(work, 'podman/root')}+${join(work, 'podman/run')}]${podmanImage}`]);
  isola('run', '--rm', '--network', 'none', 'busybox', 'true');
  if (baselineBin) baseline('run', '--rm', '--network', 'none', 'busybox', 'true');
  podman('run', '--rm', ...podmanRunFlags, podmanImage, 'true');

  // --- 1. run --rm true ----------------------------------------------------------------------------
  const times = { isola: [], baseline: [], podman: [], node: [] };
  const traces = { isola: [], baseline: [] };
  const tracedIsola = traced(isolaBin, isolaEnv);
  const tracedBaseline = traced(baselineBin, baselineEnv);
  for (let i = 0; i < rounds; i++) {
    times.isola.push(timed(() => tracedIsola('run', '--rm', '--network', 'none', 'busybox', 'true')));
    traces.isola.push(trace());
    if (baselineBin) {
      times.baseline.push(timed(() => tracedBaseline('run', '--rm', '--network', 'none', 'busybox', 'true')));
      traces.baseline.push(trace());
    }
    times.podman.push(timed(() => podman('run', '--rm', ...podmanRunFlags, podmanImage, 'true')));
    times.node.push(timed(() => run(process.execPath, ['-e', '0'])));
  }
  const mi = median(times.isola);
  const mp = median(times.podman);
  const cpu = (label) => {
    const xs = traces[label].map((t) => t.cpuMs).filter((x) => x !== undefined);
    return xs.length ? `   CPU ${median(xs).toFixed(0).padStart(4)} ms` : '';
  };
  console.log(`run --rm busybox true, ${rounds} interleaved rounds, medians`);
  console.log(`  isola run --rm              ${mi.toFixed(1).padStart(8)} ms   ${(mi / mp).toFixed(2)}x podman (target <= 0.25x)${cpu('isola')}`);
  if (baselineBin) {
    const mb = median(times.baseline);
    console.log(`  baseline isola run --rm     ${mb.toFixed(1).padStart(8)} ms   ${(mb / mp).toFixed(2)}x podman; isola is ${(mi / mb).toFixed(2)}x baseline${cpu('baseline')}`);
  }
  console.log(`  podman run --rm             ${mp.toFixed(1).padStart(8)} ms`);
  console.log(`  node -e 0 (Node's floor)    ${median(times.node).toFixed(1).padStart(8)} ms   ${(median(times.node) / mp).toFixed(2)}x podman`);
  // Where the time goes: each phase's median time since the process started (ms), and since the one before.
  const labels = baselineBin ? ['isola', 'baseline'] : ['isola'];
  const names = [...new Set(labels.flatMap((l) => traces[l].flatMap((t) => Object.keys(t.phases))))];
  const at = (label, name) => {
    const xs = traces[label].map((t) => t.phases[name]).filter((x) => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  const order = names.map((name) => [name, at('isola', name) ?? at('baseline', name)]).sort((a, b) => a[1] - b[1]).map(([name]) => name);
  console.log(`  phases (median ms since the process started; step = since the previous phase)`);
  console.log(`    ${'phase'.padEnd(26)}${labels.map((l) => `${l.padStart(10)}    step`).join('')}`);
  const previous = {};
  for (const name of order) {
    const cells = labels.map((l) => {
      const t = at(l, name);
      if (t === undefined) return ' '.repeat(18);
      const step = t - (previous[l] ?? 0);
      previous[l] = t;
      return `${t.toFixed(1).padStart(10)}${step.toFixed(1).padStart(8)}`;
    });
    console.log(`    ${name.padEnd(26)}${cells.join('')}`);
  }
  for (const l of labels) {
    const end = median(times[l]);
    console.log(`    ${`exit (${l}, wall)`.padEnd(26)}${labels.map((x) => (x === l ? `${end.toFixed(1).padStart(10)}${(end - (previous[l] ?? 0)).toFixed(1).padStart(8)}` : ' '.repeat(18))).join('')}`);
  }

  // --- 2. N detached sleeps ----------------------------------------------------------------------
  // The starts are interleaved (container i of each tool in turn), so that machine noise hits all alike;
  // a tool's start time is the sum of its own starts.
  const fleets = [
    { label: 'isola', count: n,
      start: (i) => isola('run', '-d', '--network', 'none', '--name', `s${i}`, 'busybox', 'sleep', '1000').trim(),
      monitorPid: (id) => JSON.parse(isola('container', 'inspect', id))[0].MonitorPid,
      removeAll: (ids) => isola('rm', '-f', ...ids) },
    ...(baselineBin ? [{ label: 'baseline', count: n,
      start: (i) => baseline('run', '-d', '--network', 'none', '--name', `s${i}`, 'busybox', 'sleep', '1000').trim(),
      monitorPid: (id) => JSON.parse(baseline('container', 'inspect', id))[0].MonitorPid,
      removeAll: (ids) => baseline('rm', '-f', ...ids) }] : []),
    { label: 'podman', count: podmanN,
      start: (i) => podman('run', '-d', '--name', `s${i}`, ...podmanRunFlags, podmanImage, 'sleep', '1000').trim(),
      monitorPid: (id) => Number(podman('inspect', '--format', '{{.State.ConmonPid}}', id).trim()),
      removeAll: (ids) => podman('rm', '-f', '-t', '0', ...ids) },
  ].filter((f) => f.count > 0).map((f) => ({ ...f, ids: [], startMs: 0 }));
  for (let i = 0; i < Math.max(0, ...fleets.map((f) => f.count)); i++) {
    for (const f of fleets.filter((f) => i < f.count)) f.startMs += timed(() => f.ids.push(f.start(i)));
  }
  const rows = n === 0 ? [] : fleets.map((f) => {
    const kib = f.ids.map(f.monitorPid).reduce((sum, pid) => sum + pss(pid), 0);
    return { ...f, kib, rmMs: timed(() => f.removeAll(f.ids)) };
  });
  if (rows.length) console.log(`detached sleep containers (monitor = isola's monitor / podman's conmon; PSS summed)`);
  for (const r of rows) {
    console.log(`  ${r.label.padEnd(7)} ${String(r.count).padStart(4)} started in ${(r.startMs / 1000).toFixed(2).padStart(6)} s (${(r.startMs / r.count).toFixed(0)} ms each)` +
      `   monitors ${(r.kib / 1024).toFixed(1).padStart(6)} MiB (${(r.kib / r.count).toFixed(0)} KiB each)   removed in ${(r.rmMs / 1000).toFixed(2)} s`);
  }
  const [a, b] = [rows[0], rows.at(-1)];
  if (a && baselineBin) console.log(`  per container: start ${((a.startMs / a.count) / (rows[1].startMs / rows[1].count)).toFixed(2)}x baseline`);
  if (a && b !== a && b.label === 'podman') console.log(`  per container: start ${((a.startMs / a.count) / (b.startMs / b.count)).toFixed(2)}x podman, monitor memory ${((a.kib / a.count) / (b.kib / b.count)).toFixed(2)}x conmon (target <= 5 MiB each), remove ${((a.rmMs / a.count) / (b.rmMs / b.count)).toFixed(2)}x podman`);
} finally {
  spawnSync(process.execPath, [isolaBin, 'rm', '-f', ...Array.from({ length: n }, (_, i) => `s${i}`)], { env: isolaEnv, stdio: 'ignore' });
  if (baselineBin) spawnSync(process.execPath, [baselineBin, 'rm', '-f', ...Array.from({ length: n }, (_, i) => `s${i}`)], { env: baselineEnv, stdio: 'ignore' });
  spawnSync('podman', [...podmanArgs, 'rm', '-af', '-t', '0'], { stdio: 'ignore' });
  spawnSync('podman', [...podmanArgs, 'system', 'reset', '-f'], { stdio: 'ignore' });
  // podman's overlay storage may stay mounted: unmount what is under our directory before removing it
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((p) => p?.startsWith(work));
  for (const mount of mounts.reverse()) spawnSync('umount', ['-l', mount]);
  rmSync(work, { recursive: true, force: true });
}
