import { describe, expect, it } from 'vitest';
import { cgroupLayout, describeCgroups, parseCgroupMounts, probeCgroups } from './cgroups.js';

// mountinfo lines as real hosts of each kind print them.
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const V2 = `25 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;
const V1 = `32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 / /sys/fs/cgroup/my\\040dir rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,blkio`;

const controllers = (mountpoint: string) => (mountpoint === '/sys/fs/cgroup' ? ['cpu', 'memory', 'pids'] : ['hugetlb']);

describe('cgroup mode', () => {
  it('recognises a hybrid host: v1 controllers plus cgroup2 at unified', () => {
    const details = cgroupLayout(parseCgroupMounts(HYBRID), controllers);
    expect(details.mode).toBe('hybrid');
    expect(details.v1.map((h) => h.controllers)).toEqual([['cpu'], ['memory'], ['pids']]);
    expect(details.v2).toEqual({ mountpoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] });
    expect(describeCgroups(details)).toBe('hybrid; v1: cpu memory pids; v2 at /sys/fs/cgroup/unified: hugetlb');
  });

  it('recognises a pure v2 host and reads its controllers', () => {
    const details = cgroupLayout(parseCgroupMounts(V2), controllers);
    expect(details).toEqual({ mode: 'v2', v1: [], v2: { mountpoint: '/sys/fs/cgroup', controllers: ['cpu', 'memory', 'pids'] } });
  });

  it('recognises a v1 host, with co-mounted controllers and escaped mount points', () => {
    const details = cgroupLayout(parseCgroupMounts(V1), controllers);
    expect(details.mode).toBe('v1');
    expect(details.v1).toEqual([
      { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] },
      { mountpoint: '/sys/fs/cgroup/my dir', controllers: ['blkio'] },
    ]);
  });

  it('reports no cgroups as missing and essential', () => {
    expect(cgroupLayout(parseCgroupMounts('1 0 8:1 / / rw - ext4 /dev/vda rw'), controllers).mode).toBe('none');
  });

  it('probes this host', () => {
    const result = probeCgroups();
    expect(result.status).toBe('ok');
    expect(['v1', 'v2', 'hybrid']).toContain(result.details.mode);
  });
});
