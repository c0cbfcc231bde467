// The cgroup manager on this real host (hybrid here; v1 or v2 elsewhere), as root: limits land in the
// kernel's files, a real process moves in, freezes, is stopped from forking, and nothing is left behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { type Cgroup, createCgroup } from './manager.js';
import { readCgroupHost } from './mounts.js';

const needsRoot = itNeeds({ root: true, files: ['/usr/bin/busybox'] });
const BUSYBOX = '/usr/bin/busybox';

const parent = `/isola-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const cgroups: Cgroup[] = [];
const children: ChildProcess[] = [];
let restoreSubtree: (() => void) | undefined;

/** A cgroup below the test's own parent, registered for cleanup. */
function testCgroup(name: string): Cgroup {
  const cgroup = createCgroup(`${parent}/${name}`);
  cgroups.push(cgroup);
  return cgroup;
}

/** busybox sh running `script` once it reads a line, so the test can move it into a cgroup first. */
function gated(script: string): { child: ChildProcess; go: () => void; stderr: () => string } {
  const child = spawn(BUSYBOX, ['sh', '-c', `read x; ${script}`], { stdio: ['pipe', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, go: () => child.stdin!.write('\n'), stderr: () => err };
}

async function until<T>(what: string, probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await sleep(20);
  }
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

afterEach(async () => {
  // Processes first (a cgroup with tasks cannot go), then every cgroup, then the shared parent.
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  }
  const errors: unknown[] = [];
  for (const cgroup of [...cgroups.splice(0), createCgroup(parent)]) {
    await cgroup.thaw().catch(() => undefined);
    await cgroup.destroy().catch((e: unknown) => errors.push(e));
  }
  restoreSubtree?.();
  restoreSubtree = undefined;
  if (errors.length) throw errors[0];
});

describe('cgroups on this host', () => {
  needsRoot('sets memory, cpu, cpuset and pids limits that read back from the kernel files', async () => {
    const cgroup = testCgroup('limits');
    const swapAccounting = cgroup.mode !== 'v2' && existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
    await cgroup.set({
      memory: { limit: 64 << 20, reservation: 32 << 20, ...(swapAccounting ? { swap: 128 << 20 } : {}), ...(cgroup.mode === 'v2' ? {} : { swappiness: 10 }) },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 10 },
    });
    const p = cgroup.paths;
    if (cgroup.mode === 'v2') {
      const dir = p['']!;
      expect([read(dir, 'memory.max'), read(dir, 'memory.low'), read(dir, 'cpu.max'), read(dir, 'cpu.weight'), read(dir, 'pids.max')]).toEqual([
        String(64 << 20), String(32 << 20), '50000 100000', '59', '10',
      ]);
      return;
    }
    const memory = p['memory']!;
    expect(read(memory, 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(read(memory, 'memory.soft_limit_in_bytes')).toBe(String(32 << 20));
    expect(read(memory, 'memory.swappiness')).toBe('10');
    if (swapAccounting) expect(read(memory, 'memory.memsw.limit_in_bytes')).toBe(String(128 << 20));
    const cpu = Object.entries(p).find(([k]) => k.split(',').includes('cpu'))![1];
    expect([read(cpu, 'cpu.shares'), read(cpu, 'cpu.cfs_quota_us'), read(cpu, 'cpu.cfs_period_us')]).toEqual(['512', '50000', '100000']);
    const cpuset = Object.entries(p).find(([k]) => k.split(',').includes('cpuset'))![1];
    expect([read(cpuset, 'cpuset.cpus'), read(cpuset, 'cpuset.mems')]).toEqual(['0', '0']);
    expect(read(p['pids']!, 'pids.max')).toBe('10');

    // Shares outside the kernel's range are clamped silently by the kernel; we say so.
    await expect(cgroup.set({ cpu: { shares: 1 } })).rejects.toThrow('linux.resources.cpu.shares: the kernel clamped 1 to 2');
    // A throttle on a real block device, where the host has one.
    const vda = existsSync('/sys/block/vda/dev') ? readFileSync('/sys/block/vda/dev', 'utf8').trim() : undefined;
    if (vda && p['blkio']) {
      const [major, minor] = vda.split(':').map(Number) as [number, number];
      await cgroup.set({ blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1048576 }] } });
      expect(read(p['blkio'], 'blkio.throttle.read_bps_device')).toBe(`${vda} 1048576`);
    }
  });

  needsRoot('applies hugepage limits where the hugetlb controller lives (the unified hierarchy on a hybrid host)', async () => {
    const host = readCgroupHost();
    const onUnified = host.mode === 'hybrid' && host.v2?.controllers.includes('hugetlb') && !host.v1.some((h) => h.controllers.includes('hugetlb'));
    if (!onUnified || !existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB')) return;
    const root = host.v2!.mountpoint;
    const before = read(root, 'cgroup.subtree_control');
    // Enabling hugetlb in the unified root is host-wide: afterEach puts the root back as it was.
    if (!before.split(' ').includes('hugetlb')) restoreSubtree = () => writeFileSync(join(root, 'cgroup.subtree_control'), '-hugetlb');
    const cgroup = testCgroup('hugetlb');
    await cgroup.set({ hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] });
    expect(read(cgroup.paths['']!, 'hugetlb.2MB.max')).toBe(String(4 << 20));
    await expect(cgroup.set({ hugepageLimits: [{ pageSize: '64KB', limit: 1 }] })).rejects.toThrow(
      'linux.resources.hugepageLimits[0].pageSize: this host has no 64KB huge pages (hugetlb.64KB.max missing)',
    );
    expect(Object.keys((await cgroup.stats()).hugetlb)).toContain('2MB');
  });

  needsRoot('moves a real process into every hierarchy, and its stats show it', async () => {
    const cgroup = testCgroup('procs');
    const { child, go } = gated(`exec ${BUSYBOX} sleep 30`);
    const pid = child.pid!;
    await cgroup.apply(pid);
    for (const [key, dir] of Object.entries(cgroup.paths)) {
      expect(read(dir, 'cgroup.procs').split('\n'), `cgroup.procs of ${key || 'unified'}`).toContain(String(pid));
    }
    // /proc/PID/cgroup: one line per hierarchy, each naming our path.
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    for (const key of Object.keys(cgroup.paths)) {
      const line = lines.find((l) => l.split(':')[1] === key);
      expect(line, `/proc/${pid}/cgroup line for ${key || 'unified'}`).toBeDefined();
      expect(line!.split(':')[2]).toBe(cgroup.path);
    }
    expect(await cgroup.pids()).toEqual([pid]);
    // Memory is charged when pages are touched, so let the exec happen inside the cgroup.
    go();
    const stats = await until('memory usage', () => cgroup.stats(), (s) => s.memory.usage.usage > 0 && s.cpu.usage.total > 0);
    expect(stats.pids.current).toBe(1);
    expect(stats.memory.raw).not.toEqual({});
    expect(await cgroup.oomKills()).toBe(0);
  });

  needsRoot('freeze really stops a busy process and thaw lets it run again', async () => {
    const cgroup = testCgroup('freeze');
    const { child, go } = gated('while :; do :; done');
    const pid = child.pid!;
    await cgroup.apply(pid);
    go();
    const cpuTime = async () => (await cgroup.stats()).cpu.usage.total;
    await until('the loop to run', cpuTime, (t) => t > 0);
    await cgroup.freeze();
    expect(await cgroup.state()).toBe('frozen');
    if (cgroup.paths['freezer']) expect(read(cgroup.paths['freezer'], 'freezer.state')).toBe('FROZEN');
    // A frozen task sleeps uninterruptibly in the freezer ("D" on current kernels), and uses no CPU.
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^State:\s+D/m);
    const frozenAt = await cpuTime();
    await sleep(200);
    expect(await cpuTime()).toBe(frozenAt);
    await cgroup.thaw();
    expect(await cgroup.state()).toBe('thawed');
    await until('the loop to run again', cpuTime, (t) => t > frozenAt);
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^State:\s+R/m);
  });

  needsRoot('a pids limit of 2 stops the third task from being forked (EAGAIN inside)', async () => {
    const cgroup = testCgroup('pids');
    const { child, go, stderr } = gated('sleep 0.3 & sleep 0.3 & wait');
    await cgroup.apply(child.pid!);
    await cgroup.set({ pids: { limit: 2 } });
    const exited = once(child, 'exit');
    go();
    await exited;
    expect(stderr()).toMatch(/can't fork: Resource temporarily unavailable/);
    expect((await cgroup.stats()).pids.limit).toBe(2);
  });

  needsRoot('destroy removes every directory, even right after the process was killed', async () => {
    const cgroup = testCgroup('destroy');
    const { child } = gated('sleep 30');
    await cgroup.apply(child.pid!);
    await cgroup.kill();
    await cgroup.destroy();
    for (const dir of Object.values(cgroup.paths)) expect(existsSync(dir), dir).toBe(false);
  });

  needsRoot('destroy removes the cgroups a container made below its own, in every hierarchy', async () => {
    const outer = testCgroup('outer');
    outer.create();
    createCgroup(`${outer.path}/inner/deeper`).create();
    await outer.destroy();
    for (const dir of Object.values(outer.paths)) expect(existsSync(dir), dir).toBe(false);
  });

  needsRoot('destroy names what is left when a process will not leave', async () => {
    const cgroup = createCgroup(`${parent}/stuck`, { destroyTimeoutMs: 50 });
    cgroups.push(cgroup);
    const { child } = gated('sleep 30');
    await cgroup.apply(child.pid!);
    await expect(cgroup.destroy()).rejects.toThrow(new RegExp(`EBUSY \\(processes still inside: ${child.pid}\\)`));
  });
});
