import { describe, expect, it } from 'vitest';
import { cgroupHost, cgroupLayout, conventionalCgroupMounts, locateController, parseCgroupMounts, readCgroupHost, readCgroupMounts, readControllers } from './mounts.js';

// mountinfo texts as real hosts of each kind print them.
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const V2 = `25 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;
const V1 = `32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 / /sys/fs/cgroup/my\\040dir rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,blkio
34 31 0:31 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
35 31 0:29 / /mnt/again rw,relatime - cgroup cgroup rw,cpu,cpuacct`;

const controllers = (mountpoint: string) => (mountpoint === '/sys/fs/cgroup' ? ['cpuset', 'cpu', 'io', 'memory', 'pids'] : ['hugetlb']);

describe('cgroup mode from the mount table', () => {
  it('hybrid: v1 controllers and named systemd, plus cgroup2 offering what v1 left (hugetlb)', () => {
    const host = cgroupHost(parseCgroupMounts(HYBRID), controllers);
    expect(host.mode).toBe('hybrid');
    expect(host.v1.map((h) => h.name ?? h.controllers.join(','))).toEqual(['cpu', 'cpuacct', 'memory', 'pids', 'systemd']);
    expect(host.v1.find((h) => h.name === 'systemd')).toEqual({ mountpoint: '/sys/fs/cgroup/systemd', controllers: [], name: 'systemd' });
    expect(host.v2).toEqual({ mountpoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] });
    expect(locateController(host, 'memory')).toEqual({ version: 1, mountpoint: '/sys/fs/cgroup/memory' });
    expect(locateController(host, 'hugetlb')).toEqual({ version: 2, mountpoint: '/sys/fs/cgroup/unified' });
    expect(locateController(host, 'blkio')).toBeNull();
  });

  it('v2: one unified hierarchy', () => {
    const host = cgroupHost(parseCgroupMounts(V2), controllers);
    expect(host).toEqual({ mode: 'v2', v1: [], v2: { mountpoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] } });
    expect(locateController(host, 'memory')).toEqual({ version: 2, mountpoint: '/sys/fs/cgroup' });
  });

  it('v1: co-mounted controllers, escaped mount points, and a bind mount of the same hierarchy counted once', () => {
    const host = cgroupHost(parseCgroupMounts(V1), controllers);
    expect(host.mode).toBe('v1');
    expect(host.v1).toEqual([
      { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] },
      { mountpoint: '/sys/fs/cgroup/my dir', controllers: ['blkio'] },
      { mountpoint: '/sys/fs/cgroup/systemd', controllers: [], name: 'systemd' },
    ]);
  });

  it('a host with only a named hierarchy has no controllers: mode none', () => {
    expect(cgroupHost(parseCgroupMounts('34 31 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd'), controllers).mode).toBe('none');
  });

  it('keeps doctor’s view (controller hierarchies only)', () => {
    expect(cgroupLayout(parseCgroupMounts(HYBRID), controllers).v1.map((h) => h.controllers)).toEqual([['cpu'], ['cpuacct'], ['memory'], ['pids']]);
  });

  it('reads this host', () => {
    expect(['v1', 'v2', 'hybrid']).toContain(readCgroupHost().mode);
  });
});

describe('cgroup mounts without the mount table', () => {
  const TMPFS = 0x01021994;
  const CGROUP = 0x27e0eb;
  const CGROUP2 = 0x63677270;
  const SELF_HYBRID = '9:name=systemd:/\n4:memory:/a/b\n2:cpu,cpuacct:/\n0::/\n';
  const fs = (types: Record<string, number>) => (path: string) => types[path];

  it('finds the usual hybrid layout from /proc/self/cgroup and statfs, in mount order', () => {
    const types = { '/sys/fs/cgroup': TMPFS, '/sys/fs/cgroup/cpu,cpuacct': CGROUP, '/sys/fs/cgroup/memory': CGROUP, '/sys/fs/cgroup/systemd': CGROUP, '/sys/fs/cgroup/unified': CGROUP2 };
    const host = cgroupHost(conventionalCgroupMounts(SELF_HYBRID, fs(types))!, () => ['hugetlb']);
    expect(host.mode).toBe('hybrid');
    expect(host.v1).toEqual([
      { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] },
      { mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
      { mountpoint: '/sys/fs/cgroup/systemd', controllers: [], name: 'systemd' },
    ]);
    expect(host.v2).toEqual({ mountpoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] });
  });

  it('finds a pure cgroup2 host', () => {
    expect(conventionalCgroupMounts('0::/user.slice\n', fs({ '/sys/fs/cgroup': CGROUP2 }))).toEqual([{ mountpoint: '/sys/fs/cgroup', root: '/', fstype: 'cgroup2', superOptions: ['rw'] }]);
  });

  it('gives up (so the mount table is read) wherever the layout is unusual', () => {
    const usual = { '/sys/fs/cgroup': TMPFS, '/sys/fs/cgroup/cpu,cpuacct': CGROUP, '/sys/fs/cgroup/memory': CGROUP, '/sys/fs/cgroup/systemd': CGROUP, '/sys/fs/cgroup/unified': CGROUP2 };
    expect(conventionalCgroupMounts(SELF_HYBRID, fs({ ...usual, '/sys/fs/cgroup/memory': TMPFS }))).toBeNull();
    expect(conventionalCgroupMounts(SELF_HYBRID, fs({ ...usual, '/sys/fs/cgroup/unified': 0 }))).toBeNull();
    expect(conventionalCgroupMounts(SELF_HYBRID, fs({ '/sys/fs/cgroup': 0xef53 }))).toBeNull();
    expect(conventionalCgroupMounts('2:cpu:/\n0::/\n', fs({ '/sys/fs/cgroup': CGROUP2 }))).toBeNull();
    expect(conventionalCgroupMounts('garbage\n', fs(usual))).toBeNull();
  });

  it('agrees with the mount table on this host', () => {
    const normalise = (host: ReturnType<typeof readCgroupHost>) => ({ ...host, v1: [...host.v1].sort((a, b) => a.mountpoint.localeCompare(b.mountpoint)) });
    expect(normalise(cgroupHost(readCgroupMounts(), readControllers))).toEqual(normalise(readCgroupHost('/proc/self/mountinfo')));
  });
});
