// Limits that hold: --memory ends in a reported OOM kill, --pids-limit contains a fork bomb, --cpus 0.5
// holds a busy loop near half a core; `isola stats` and `isola top` show the real cgroup and processes;
// a bad value is one line and leaves nothing behind.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { list, useBusyboxImage, useIsolaRoot } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';
import { useTestNetns } from '../support/netns.js';

// isola runs in a network namespace of this file's own: its default bridge is made there, not on the host.
const netns = useTestNetns();
const { root: stateRoot, isola } = useIsolaRoot('isola-limits-', netns);
useBusyboxImage();

/** A container's cgroup file: the v1 hierarchy of `controller` when the host has one, else cgroup v2. */
function cgroupFile(controller: string, id: string, v1: string, v2: string): string {
  const legacy = `/sys/fs/cgroup/${controller}/isola/${id}/${v1}`;
  return existsSync(`/sys/fs/cgroup/${controller}`) ? legacy : `/sys/fs/cgroup/isola/${id}/${v2}`;
}

const pidsCurrent = (id: string) => Number(readFileSync(cgroupFile('pids', id, 'pids.current', 'pids.current'), 'utf8'));

/** CPU time the cgroup has used, in seconds. */
function cpuSeconds(id: string): number {
  const file = cgroupFile('cpuacct', id, 'cpuacct.usage', 'cpu.stat');
  const text = readFileSync(file, 'utf8');
  return file.endsWith('cpu.stat') ? Number(/^usage_usec (\d+)/m.exec(text)![1]) / 1e6 : Number(text) / 1e9;
}

/** CFS periods so far, and those in which the cgroup used up its quota. */
function throttling(id: string): { periods: number; throttled: number } {
  const text = readFileSync(cgroupFile('cpu', id, 'cpu.stat', 'cpu.stat'), 'utf8');
  return { periods: Number(/^nr_periods (\d+)/m.exec(text)![1]), throttled: Number(/^nr_throttled (\d+)/m.exec(text)![1]) };
}

/** The container's cgroup directories that still exist, in any hierarchy. */
function cgroupDirs(id: string): string[] {
  return list('/sys/fs/cgroup').flatMap((h) => (existsSync(`/sys/fs/cgroup/${h}/isola/${id}`) ? [h] : []));
}

const needs = itNeeds({ root: true, files: ['/bin/busybox'] });

describe('resource limits', () => {
  needs('--memory 32m: a process that takes more is OOM-killed, exit 137, and inspect says OOMKilled', () => {
    // dd fills a 64 MiB buffer from /dev/zero: every page is touched, and charged.
    const r = isola('run', '--name', 'hog', '--memory', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1');
    expect(r.status).toBe(137);
    const [info] = JSON.parse(isola('inspect', 'hog').stdout);
    expect(info.State).toMatchObject({ Status: 'exited', ExitCode: 137, OOMKilled: true, Error: '' });
    expect(info.HostConfig).toMatchObject({ Memory: 32 << 20 });
    expect(isola('rm', 'hog').status).toBe(0);
    // Under the limit nothing happens; --rm in the foreground passes the 137 through too.
    expect(isola('run', '--rm', '--memory', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=8M', 'count=1').status).toBe(0);
    expect(isola('run', '--rm', '--memory', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1').status).toBe(137);
   }, 60_000);

  needs('--pids-limit 20 contains a fork bomb: the container lives on at 20 processes, then is removed cleanly', async () => {
    // The bomb's shells die when fork fails and others take their place; PID 1 became a sleep.
    const run = isola('run', '-d', '--name', 'bomb', '--pids-limit', '20', 'busybox', 'sh', '-c', 'f() { f | f & }; f; exec sleep 1000');
    expect(run.stderr).toBe('');
    const id = run.stdout.trim();
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      const now = pidsCurrent(id);
      expect(now).toBeLessThanOrEqual(20);
      peak = Math.max(peak, now);
    }
    // The bomb comes and goes (shells die when fork fails): the kernel's own high-water mark is exact
    // where it keeps one; sampling every 100 ms can miss the moment it touched the limit.
    const peakFile = cgroupFile('pids', id, 'pids.peak', 'pids.peak');
    if (existsSync(peakFile)) peak = Math.max(peak, Number(readFileSync(peakFile, 'utf8')));
    expect(peak).toBe(20);
    // And fork really was refused at the limit.
    expect(Number(/^max (\d+)$/m.exec(readFileSync(cgroupFile('pids', id, 'pids.events', 'pids.events'), 'utf8'))![1])).toBeGreaterThan(0);
    const [info] = JSON.parse(isola('inspect', 'bomb').stdout);
    expect(info.State.Status).toBe('running');
    expect(info.HostConfig.PidsLimit).toBe(20);
    const stats = JSON.parse(isola('stats', '--no-stream', '--format', 'json', 'bomb').stdout);
    expect(stats.PIDs).toBe(String(pidsCurrent(id)));
    expect(isola('rm', '-f', 'bomb').status).toBe(0);
    expect(cgroupDirs(id)).toEqual([]);
    expect(list(join(stateRoot, 'containers'))).not.toContain(id);
  }, 60_000);

  needs('--cpus 0.5 holds a busy loop within 15% of half a core', async () => {
    const id = isola('run', '-d', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done').stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await sleep(300); // past the first period
    // A behaviour check of the limit, not a benchmark: CFS gives the cgroup 50 ms of every 100 ms
    // period, so over 2 s the loop's CPU time / wall time is 0.5. It may never exceed that; it reaches
    // it unless the host itself starves the loop (then the cgroup is rarely throttled: on a loaded
    // 2-core box, measure again).
    const windows: Array<{ share: number; throttled: number }> = [];
    for (let i = 0; i < 5; i++) {
      const [cpu0, wall0, t0] = [cpuSeconds(id), performance.now(), throttling(id)];
      await sleep(2000);
      const [cpu1, wall1, t1] = [cpuSeconds(id), performance.now(), throttling(id)];
      const window = { share: (cpu1 - cpu0) / ((wall1 - wall0) / 1000), throttled: (t1.throttled - t0.throttled) / Math.max(1, t1.periods - t0.periods) };
      windows.push(window);
      expect(window.share).toBeLessThan(0.5 * 1.15);
      if (window.share > 0.5 * 0.85) break;
    }
    const held = windows.some((w) => w.share > 0.5 * 0.85);
    const starved = windows.every((w) => w.throttled < 0.5);
    if (!held && starved) console.warn(`--cpus 0.5: the host starved the loop in every window (${JSON.stringify(windows)}); only the upper bound was checked`);
    else expect(windows.at(-1)!.share).toBeGreaterThan(0.5 * 0.85);
    const stats = JSON.parse(isola('stats', '--no-stream', '--format', 'json', id.slice(0, 12)).stdout);
    expect(Number.parseFloat(stats.CPUPerc)).toBeLessThan(50 * 1.15);
    const [info] = JSON.parse(isola('inspect', id).stdout);
    expect(info.HostConfig).toMatchObject({ NanoCpus: 500_000_000 });
    expect(isola('rm', '-f', id).status).toBe(0);
  }, 60_000);
});

describe('stats and top', () => {
  needs('stats shows the cgroup numbers in docker\'s columns; top shows the container\'s processes', () => {
    const id = isola('run', '-d', '--name', 'sleeper', '--memory', '64m', 'busybox', 'sh', '-c', 'sleep 1000 & sleep 1001; true').stdout.trim();
    const table = isola('stats', '--no-stream', 'sleeper');
    expect(table.status).toBe(0);
    const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/);
    expect(row).toMatch(new RegExp(`^${id.slice(0, 12)} +sleeper +\\d+\\.\\d\\d% +[\\d.]+[KM]iB / 64MiB +\\d+\\.\\d\\d% +[\\d.]+[kMG]?B / [\\d.]+[kMG]?B +[\\d.]+[kMG]?B / [\\d.]+[kMG]?B +3$`));
    expect(rest).toEqual([]);
    const json = JSON.parse(isola('stats', '--no-stream', '--format', 'json').stdout);
    expect(Object.keys(json)).toEqual(['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
    expect(json).toMatchObject({ Container: 'sleeper', ID: id.slice(0, 12), Name: 'sleeper', PIDs: '3' });
    expect(json.NetIO).toMatch(/^[\d.]+[kMG]?B \/ [\d.]+[kMG]?B$/);

    const top = isola('top', 'sleeper');
    expect(top.status).toBe(0);
    const lines = top.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
    expect(lines.slice(1).map((l) => l.replace(/^.* \d\d:\d\d:\d\d /, '')).sort()).toEqual(['sh -c sleep 1000 & sleep 1001; true', 'sleep 1000', 'sleep 1001']);
    const aux = isola('top', 'sleeper', 'aux');
    expect(aux.stdout.split('\n')[0]).toMatch(/^USER +PID +%CPU/);
    expect(aux.stdout.trimEnd().split('\n')).toHaveLength(4);

    expect(isola('stop', '-t', '0', 'sleeper').status).toBe(0);
    expect(isola('top', 'sleeper').stderr).toBe('Error: container sleeper is not running\n');
    expect(isola('stats', '--no-stream', '--format', 'json', 'sleeper').stdout).toContain('"MemUsage":"0B / 0B"');
    expect(isola('stats', '--no-stream', 'no-such').stderr).toBe('Error: no such container: no-such\n');
    expect(isola('rm', 'sleeper').status).toBe(0);
  }, 60_000);
});

describe('bad limit values', () => {
  needs('fail with one line and leave no record, rootfs, cgroup or mount behind', () => {
    const state = () => ({ containers: list(join(stateRoot, 'containers')), rootfs: list(join(stateRoot, 'image', 'containers')) });
    const before = state();
    const cgroupsBefore = new Set(list('/sys/fs/cgroup/memory/isola'));
    const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(stateRoot));
    const mountsBefore = mounts();
    const cases: Array<[string[], RegExp]> = [
      [['--memory', '12x'], /^Error: invalid --memory "12x": use a number with an optional b, k, m or g suffix \(e\.g\. 64m\)\n$/],
      [['-m', '1k'], /^Error: invalid --memory "1k": the minimum memory limit is 6MB\n$/],
      [['--memory-swap', '64m'], /it needs --memory too/],
      [['--memory', '64m', '--memory-swap', '32m'], /must be at least --memory/],
      [['--cpus', '-1'], /^Error: invalid --cpus "-1": the range is 0\.01 to \d+\.00 \(this host has \d+ CPUs\)\n$/],
      [['--cpus', '1000'], /^Error: invalid --cpus "1000": the range/],
      [['--cpus', '0.5;rm'], /invalid --cpus/],
      [['--cpu-shares', '1'], /^Error: invalid --cpu-shares "1": the range is 2 to 262144/],
      [['--pids-limit', 'lots'], /^Error: invalid --pids-limit "lots": not an integer\n$/],
    ];
    for (const [flags, message] of cases) {
      // Each way `run` goes (in this process with --rm, detached, attached) for the first; one for the rest.
      for (const mode of flags === cases[0]![0] ? [['--rm'], ['-d'], []] : [[]]) {
        const r = isola('run', ...mode, ...flags, 'busybox', 'true');
        expect({ flags, mode, status: r.status, stdout: r.stdout }).toEqual({ flags, mode, status: 125, stdout: '' });
        expect(r.stderr).toMatch(message);
      }
    }
    expect(isola('create', '--memory', '12x', 'busybox', 'true').status).toBe(125);
    expect(state()).toEqual(before);
    // Other test files may be running containers meanwhile: a cgroup left behind here would be new and empty.
    const leftCgroups = list('/sys/fs/cgroup/memory/isola').filter((d) => !cgroupsBefore.has(d) && readFileSync(`/sys/fs/cgroup/memory/isola/${d}/cgroup.procs`, 'utf8') === '');
    expect(leftCgroups).toEqual([]);
    expect(mounts()).toEqual(mountsBefore);
  }, 120_000);
});
