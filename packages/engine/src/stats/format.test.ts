import { describe, expect, it } from 'vitest';
import type { CgroupStats } from '@isola/container';
import { bytesSize, cpuPercent, humanSize, statsRow, statsTable } from './format.js';
import { parseNetDev, parseSystemCpu, type Sample } from './sample.js';
import { filterPs } from './top.js';

const entry = () => ({ limit: 0, usage: 0, max: 0, failcnt: 0 });
const emptyStats = (): CgroupStats => ({
  cpu: { usage: { total: 0, kernel: 0, user: 0 }, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } },
  memory: { cache: 0, usage: entry(), swap: entry(), kernel: entry(), kernelTCP: entry(), raw: {} },
  pids: { current: 0, limit: 0 },
  blkio: { ioServiceBytesRecursive: [], ioServicedRecursive: [] },
  hugetlb: {},
});

function sample(patch: (s: Sample) => void): Sample {
  const s: Sample = { at: 0, cgroup: emptyStats(), systemCpuNs: 0, onlineCpus: 2, hostMemory: 8 * 1024 ** 3, net: { rx: 0, tx: 0 } };
  patch(s);
  return s;
}

describe('stats format', () => {
  it('prints sizes in go-units style', () => {
    expect(bytesSize(0)).toBe('0B');
    expect(bytesSize(1536 * 1024)).toBe('1.5MiB');
    expect(bytesSize(32 << 20)).toBe('32MiB');
    expect(bytesSize(33_554_000_000)).toBe('31.25GiB');
    expect(humanSize(4096)).toBe('4.1kB');
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(12_345_678)).toBe('12.3MB');
  });
  it('computes CPU % as docker does, from the host CPU time between two samples', () => {
    const before = sample((s) => { s.systemCpuNs = 10e9; s.cgroup.cpu.usage.total = 1e9; });
    const after = sample((s) => { s.systemCpuNs = 12e9; s.cgroup.cpu.usage.total = 1.5e9; });
    expect(cpuPercent(before, after)).toBe(50);
  });
  it('makes docker rows: memory without inactive file cache, limit capped to the host, block I/O read/write', () => {
    const after = sample((s) => {
      s.cgroup.memory.usage = { usage: 10 << 20, limit: 2 ** 63 - 4096, max: 0, failcnt: 0 };
      s.cgroup.memory.raw = { total_inactive_file: 2 << 20 };
      s.cgroup.blkio.ioServiceBytesRecursive = [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 2_000_000 }];
      s.cgroup.pids.current = 3;
      s.net = { rx: 1500, tx: 0 };
    });
    const row = statsRow({ id: 'a'.repeat(64), name: 'web' }, undefined, after);
    expect(row).toEqual({
      BlockIO: '4.1kB / 2MB', CPUPerc: '0.00%', Container: 'web', ID: 'aaaaaaaaaaaa', MemPerc: '0.10%', MemUsage: '8MiB / 8GiB', Name: 'web', NetIO: '1.5kB / 0B', PIDs: '3',
    });
    expect(statsRow({ id: 'b'.repeat(64), name: 'gone' }, undefined, undefined).MemUsage).toBe('0B / 0B');
    expect(statsTable([row]).split('\n')).toEqual([
      'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK I/O     PIDS',
      'aaaaaaaaaaaa   web       0.00%     8MiB / 8GiB         0.10%     1.5kB / 0B   4.1kB / 2MB   3',
    ]);
  });
  it('reads /proc/stat and /proc/PID/net/dev', () => {
    expect(parseSystemCpu('cpu  100 0 50 850 0 0 0 0 7 0\ncpu0 1 2 3\n')).toBe(1000 * 1e7);
    const dev = 'Inter-|   Receive\n face |bytes packets\n    lo:  999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 1500 3 0 0 0 0 0 0 700 2 0 0 0 0 0 0\n';
    expect(parseNetDev(dev)).toEqual({ rx: 1500, tx: 700 });
  });
});

describe('top', () => {
  it('keeps the header and the rows whose PID column is one of the container\'s', () => {
    const ps = 'UID   PID  PPID  C STIME TTY  TIME     CMD\nroot    1     0  0 10:00 ?    00:00:01 /sbin/init\nroot  4242  4200  0 10:01 ?    00:00:00 sleep 100\n';
    expect(filterPs(ps, new Set([4242]))).toEqual({ titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], header: ps.split('\n')[0], lines: ['root  4242  4200  0 10:01 ?    00:00:00 sleep 100'] });
    expect(() => filterPs('USER COMMAND\nroot x\n', new Set([1]))).toThrow(/ps did not print a PID column/);
  });
});
