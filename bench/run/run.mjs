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
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}
const isola = (...args) => run(process.execPath, [isolaBin, ...args], isolaEnv);
const baselineBin = process.env.ISOLA_BASELINE;
const baselineEnv = { ...process.env, ISOLA_ROOT: join(work, 'isola-baseline') };
const baseline = (...args) => run(process.execPath, [baselineBin, ...args], baselineEnv);
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
  const times = { isola: [], baseline: [], podman: [] };
  for (let i = 0; i < rounds; i++) {
    times.isola.push(timed(() => isola('run', '--rm', '--network', 'none', 'busybox', 'true')));
    if (baselineBin) times.baseline.push(timed(() => baseline('run', '--rm', '--network', 'none', 'busybox', 'true')));
    times.podman.push(timed(() => podman('run', '--rm', ...podmanRunFlags, podmanImage, 'true')));
  }
  const mi = median(times.isola);
  const mp = median(times.podman);
  console.log(`run --rm busybox true, ${rounds} interleaved rounds, medians`);
  console.log(`  isola run --rm              ${mi.toFixed(1).padStart(8)} ms   ${(mi / mp).toFixed(2)}x podman (target <= 0.25x)`);
  if (baselineBin) {
    const mb = median(times.baseline);
    console.log(`  baseline isola run --rm     ${mb.toFixed(1).padStart(8)} ms   ${(mb / mp).toFixed(2)}x podman; isola is ${(mi / mb).toFixed(2)}x baseline`);
  }
  console.log(`  podman run --rm             ${mp.toFixed(1).padStart(8)} ms`);

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
  ].map((f) => ({ ...f, ids: [], startMs: 0 }));
  for (let i = 0; i < Math.max(...fleets.map((f) => f.count)); i++) {
    for (const f of fleets.filter((f) => i < f.count)) f.startMs += timed(() => f.ids.push(f.start(i)));
  }
  const rows = fleets.map((f) => {
    const kib = f.ids.map(f.monitorPid).reduce((sum, pid) => sum + pss(pid), 0);
    return { ...f, kib, rmMs: timed(() => f.removeAll(f.ids)) };
  });
  console.log(`detached sleep containers (monitor = isola's monitor / podman's conmon; PSS summed)`);
  for (const r of rows) {
    console.log(`  ${r.label.padEnd(7)} ${String(r.count).padStart(4)} started in ${(r.startMs / 1000).toFixed(2).padStart(6)} s (${(r.startMs / r.count).toFixed(0)} ms each)` +
      `   monitors ${(r.kib / 1024).toFixed(1).padStart(6)} MiB (${(r.kib / r.count).toFixed(0)} KiB each)   removed in ${(r.rmMs / 1000).toFixed(2)} s`);
  }
  const [a, b] = [rows[0], rows.at(-1)];
  if (baselineBin) console.log(`  per container: start ${((a.startMs / a.count) / (rows[1].startMs / rows[1].count)).toFixed(2)}x baseline`);
  console.log(`  per container: start ${((a.startMs / a.count) / (b.startMs / b.count)).toFixed(2)}x podman, monitor memory ${((a.kib / a.count) / (b.kib / b.count)).toFixed(2)}x conmon (target <= 5 MiB each), remove ${((a.rmMs / a.count) / (b.rmMs / b.count)).toFixed(2)}x podman`);
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
