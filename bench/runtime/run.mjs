#!/usr/bin/env node
// The OCI runtime side by side with crun and runc, in one run, on the same busybox bundle running
// /bin/true. Prints medians of wall time and of CPU time (user+system, from getrusage: on a shared
// machine it moves far less with other load than wall time does), their ratios, and peak RSS.
// Targets (issue #3): library create+start+wait <= 0.5x crun; `isola-runtime run` <= 2x runc.
// crun refuses hybrid cgroup hosts, so it runs in a private mount namespace where an empty file hides
// the unified hierarchy's cgroup.controllers (see shared/MACHINE.md); it is timed inside that shell.
// Every command runs without NODE_EXTRA_CA_CERTS, as containerd and podman start a runtime: Node 20
// parses that certificate bundle at start-up (~80 ms of CPU here), before any of isola's code runs.
// The `node -e 0` rows show it both ways, beside a Node that only loads koffi: the floor Node sets.
// The last line is the kernel's floor under all three: the RCU grace period the first move into a
// cgroup waits for (isola overlaps it with planning and clone(); see packages/container/src/cgroups/prime.ts).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCgroup, createContainer, defaultSpec, deleteContainer, startContainer, waitForExit } from '@isola/container';

const rounds = Number(process.env.ROUNDS ?? 20);
const work = mkdtempSync(join(tmpdir(), 'isola-bench-runtime-'));
const bundle = join(work, 'bundle');
mkdirSync(join(bundle, 'rootfs/bin'), { recursive: true });
copyFileSync('/bin/busybox', join(bundle, 'rootfs/bin/busybox'));
execFileSync('chmod', ['755', join(bundle, 'rootfs/bin/busybox')]);
for (const applet of ['sh', 'true']) symlinkSync('busybox', join(bundle, 'rootfs/bin', applet));
const spec = defaultSpec();
spec.process.terminal = false;
spec.process.args = ['/bin/true'];
writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
const isolaRuntime = fileURLToPath(new URL('../../packages/container/bin/isola-runtime.cjs', import.meta.url));
const rusage = fileURLToPath(new URL('./rusage.py', import.meta.url));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const withCerts = { ...process.env };
delete process.env.NODE_EXTRA_CA_CERTS; // also for the Node child of the ISOLA_SPAWN=ts row
const env = { ...process.env };
const koffiOnly = `require(${JSON.stringify(fileURLToPath(new URL('../../node_modules/koffi/index.cjs', import.meta.url)))})`;

/** One run of a command: { wall, cpu } in ms, measured by rusage.py. */
function measure(cmd, args, environment = env) {
  const out = execFileSync('python3', [rusage, '1', cmd, ...args], { cwd: bundle, encoding: 'utf8', env: environment });
  const [wall, cpu] = out.trim().split(' ').map(Number);
  return { wall, cpu };
}

function crun() {
  const empty = join(work, 'empty');
  writeFileSync(empty, '');
  const script = `mount --bind ${empty} /sys/fs/cgroup/unified/cgroup.controllers && exec python3 ${rusage} 1 crun --root ${work}/crun run c1`;
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { cwd: bundle, encoding: 'utf8', env });
  const [wall, cpu] = out.trim().split(' ').map(Number);
  return { wall, cpu };
}

const peakRss = (cmd, args) => {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd: bundle, encoding: 'utf8', env });
  return Number(r.stderr.trim().split('\n').pop()) / 1024;
};

/** One library create+start+wait in this process; the container is deleted afterwards (not timed). */
async function libraryRun(name) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const { record, child } = await createContainer({ id: name, bundle, root: join(work, 'lib') });
  await startContainer(name, { root: join(work, 'lib') });
  child.awaitSteps();
  await waitForExit(record.pid, record.startTime);
  const c = process.cpuUsage(c0);
  const result = { wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: (c.user + c.system) / 1000 };
  await deleteContainer(name, { root: join(work, 'lib'), force: true });
  return result;
}

/**
 * The kernel's floor under every runtime here: moving a process into a cgroup after a quiet spell waits
 * for an RCU grace period (cgroup_threadgroup_rwsem), which crun, runc and isola all pay once per create.
 */
async function attachWait(name) {
  await sleep(200);
  const child = spawn('sleep', ['5']);
  await once(child, 'spawn');
  const cgroup = createCgroup(`/isola-bench-${process.pid}/${name}`);
  cgroup.create();
  const t0 = process.hrtime.bigint();
  await cgroup.apply(child.pid);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  child.kill('SIGKILL');
  await once(child, 'exit');
  await cgroup.destroy();
  return { wall, cpu: 0 };
}

const results = { library: [], libraryTs: [], isolaRuntime: [], runc: [], crun: [], node: [], nodeKoffi: [], nodeCerts: [], attach: [] };
let id = 0;
for (let round = 0; round < rounds; round++) {
  results.library.push(await libraryRun(`lib${id++}`));
  if (round < 5) {
    // The pure-TS spawn path (a Node child instead of the interpreter's machine code), for reference.
    process.env.ISOLA_SPAWN = 'ts';
    results.libraryTs.push(await libraryRun(`ts${id++}`));
    delete process.env.ISOLA_SPAWN;
  }
  results.isolaRuntime.push(measure(process.execPath, [isolaRuntime, '--root', join(work, 'ir'), 'run', `ir${id}`]));
  results.runc.push(measure('runc', ['--root', join(work, 'runc'), 'run', `r${id}`]));
  results.crun.push(crun());
  if (round < 5) {
    results.node.push(measure(process.execPath, ['-e', '0']));
    results.nodeKoffi.push(measure(process.execPath, ['-e', koffiOnly]));
    results.nodeCerts.push(measure(process.execPath, ['-e', '0'], withCerts));
    results.attach.push(await attachWait(`a${round}`));
  }
}

const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { wall: median(v.map((x) => x.wall)), cpu: median(v.map((x) => x.cpu)) }]));
const ms = (x) => x.toFixed(1).padStart(7);
const row = (label, x, ref, refName, target = '') =>
  console.log(`  ${label.padEnd(26)}${ms(x.wall)} ms ${ms(x.cpu)} ms` + (ref ? `   ${(x.wall / ref.wall).toFixed(2)}x / ${(x.cpu / ref.cpu).toFixed(2)}x ${refName}${target}` : ''));
// The library's CPU time is this process's alone; the TS path's Node child runs outside it, so only
// its wall time compares.
const wallRow = (label, x, ref, refName) => console.log(`  ${label.padEnd(26)}${ms(x.wall)} ms       -      ${(x.wall / ref.wall).toFixed(2)}x wall ${refName}`);
console.log(`runtime: busybox bundle running /bin/true, ${rounds} interleaved rounds, medians of wall and CPU time`);
console.log(`  ${''.padEnd(26)}   wall        cpu      ratios wall / cpu`);
row('library create+start+wait', m.library, m.crun, 'crun', ' (target <= 0.50x)');
wallRow(`library, ISOLA_SPAWN=ts`, m.libraryTs, m.crun, 'crun');
row('isola-runtime run', m.isolaRuntime, m.runc, 'runc', ' (target <= 2.00x)');
row('runc run', m.runc);
row('crun run', m.crun);
row('node -e 0', m.node, m.runc, 'runc');
row('node loading koffi only', m.nodeKoffi, m.runc, 'runc');
if (withCerts.NODE_EXTRA_CA_CERTS) row('node -e 0, EXTRA_CA_CERTS', m.nodeCerts, m.runc, 'runc');
await createCgroup(`/isola-bench-${process.pid}`).destroy();
console.log(`first cgroup attach after 200 ms idle (kernel RCU grace period): ${m.attach.wall.toFixed(1)} ms wall`);
console.log(`peak RSS: isola-runtime run ${peakRss(process.execPath, [isolaRuntime, '--root', join(work, 'ir'), 'run', 'rss']).toFixed(1)} MiB, runc run ${peakRss('runc', ['--root', join(work, 'runc'), 'run', 'rss']).toFixed(1)} MiB`);
rmSync(work, { recursive: true, force: true });
