#!/usr/bin/env node
// The OCI runtime side by side with crun and runc, in one run, on the same busybox bundle running
// /bin/true. Prints medians (ms), ratios and peak RSS. Targets (issue #3): library create+start+wait
// <= 0.5x crun; `isola-runtime run` <= 2x runc.
// crun refuses hybrid cgroup hosts, so it runs in a private mount namespace where an empty file hides
// the unified hierarchy's cgroup.controllers (see shared/MACHINE.md); it is timed inside that shell.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContainer, defaultSpec, deleteContainer, startContainer, waitForExit } from '@isola/container';

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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const wall = (cmd, args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: bundle, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const peakRss = (cmd, args) => {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd: bundle, encoding: 'utf8' });
  return Number(r.stderr.trim().split('\n').pop()) / 1024;
};

function crunTimes(n) {
  const empty = join(work, 'empty');
  writeFileSync(empty, '');
  const script = `mount --bind ${empty} /sys/fs/cgroup/unified/cgroup.controllers && for i in $(seq ${n}); do s=$(date +%s%N); crun --root ${work}/crun run c$i >/dev/null || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done`;
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { cwd: bundle, encoding: 'utf8' });
  return out.trim().split('\n').map((us) => Number(us) / 1000);
}

const results = { library: [], isolaRuntime: [], runc: [], crun: [] };
let id = 0;
for (let round = 0; round < rounds; round++) {
  const t0 = process.hrtime.bigint();
  const name = `lib${id++}`;
  const { record, child } = await createContainer({ id: name, bundle, root: join(work, 'lib') });
  await startContainer(name, { root: join(work, 'lib') });
  child.awaitSteps();
  await waitForExit(record.pid, record.startTime);
  results.library.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await deleteContainer(name, { root: join(work, 'lib'), force: true });
  results.isolaRuntime.push(wall(process.execPath, [isolaRuntime, '--root', join(work, 'ir'), 'run', `ir${id}`]));
  results.runc.push(wall('runc', ['--root', join(work, 'runc'), 'run', `r${id}`]));
  results.crun.push(...crunTimes(1));
}

const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
console.log(`runtime: busybox bundle running /bin/true, ${rounds} interleaved rounds, medians`);
console.log(`  library create+start+wait   ${m.library.toFixed(1).padStart(7)} ms   ${(m.library / m.crun).toFixed(2)}x crun (target <= 0.50x)`);
console.log(`  isola-runtime run           ${m.isolaRuntime.toFixed(1).padStart(7)} ms   ${(m.isolaRuntime / m.runc).toFixed(2)}x runc (target <= 2.00x)`);
console.log(`  runc run                    ${m.runc.toFixed(1).padStart(7)} ms`);
console.log(`  crun run                    ${m.crun.toFixed(1).padStart(7)} ms`);
console.log(`  node -e 0                   ${median(Array.from({ length: 5 }, () => wall(process.execPath, ['-e', '0']))).toFixed(1).padStart(7)} ms`);
console.log(`peak RSS: isola-runtime run ${peakRss(process.execPath, [isolaRuntime, '--root', join(work, 'ir'), 'run', 'rss']).toFixed(1)} MiB, runc run ${peakRss('runc', ['--root', join(work, 'runc'), 'run', 'rss']).toFixed(1)} MiB`);
rmSync(work, { recursive: true, force: true });
