// Priming the cgroup attach lock: which file is written (pure), and that writing it moves nothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { parseCgroupMounts } from './mounts.js';
import { ownCgroupProcs, primeAttach } from './prime.js';

const HYBRID = [
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe('ownCgroupProcs', () => {
  it('prefers the cgroup2 hierarchy', () => {
    expect(ownCgroupProcs(parseCgroupMounts(HYBRID), '1:cpu:/a\n0::/user.slice/x.scope\n')).toBe('/sys/fs/cgroup/unified/user.slice/x.scope/cgroup.procs');
  });

  it('uses a v1 hierarchy, co-mounted or named, where there is no cgroup2', () => {
    const v1 = HYBRID.split('\n').slice(0, 3).join('\n');
    expect(ownCgroupProcs(parseCgroupMounts(v1), '9:name=systemd:/s\n')).toBe('/sys/fs/cgroup/systemd/s/cgroup.procs');
    expect(ownCgroupProcs(parseCgroupMounts(v1), '2:cpu,cpuacct:/\n')).toBe('/sys/fs/cgroup/cpu,cpuacct/cgroup.procs');
  });

  it('maps the path through a mount of a subtree, and refuses paths it cannot place', () => {
    const sub = parseCgroupMounts('41 31 0:38 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    expect(ownCgroupProcs(sub, '0::/kubepods/pod1/c1\n')).toBe('/sys/fs/cgroup/c1/cgroup.procs');
    expect(ownCgroupProcs(sub, '0::/kubepods/pod10\n')).toBeNull();
    expect(ownCgroupProcs(sub, '0::/../../other\n')).toBeNull();
    expect(ownCgroupProcs(parseCgroupMounts(HYBRID), '5:memory:/m\n')).toBeNull();
  });
});

describe('primeAttach', () => {
  itNeeds({ root: true })('leaves this process in the cgroups it was in', async () => {
    const before = readFileSync('/proc/self/cgroup', 'utf8');
    expect(await primeAttach()).toBe(true);
    expect(readFileSync('/proc/self/cgroup', 'utf8')).toBe(before);
  });
});
