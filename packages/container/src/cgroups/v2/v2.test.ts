// cgroup v2 resource writing against a fake cgroupfs tree: the exact files and values, in order.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CgroupWrite } from '../dir.js';
import { createCgroup } from '../manager.js';
import type { CgroupHost } from '../mounts.js';
import { type FakeTree, fakeCgroupTree } from '../testing.js';
import { cpuMaxValue, sharesToWeight } from './cpu.js';
import { blkioWeightToIoWeight } from './io.js';
import { swapV2 } from './memory.js';

const CONTROLLERS = 'cpuset cpu io memory hugetlb pids';
const LEAF_FILES = [
  'cgroup.procs', 'cgroup.subtree_control', 'cgroup.freeze', 'cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'memory.max', 'memory.low',
  'memory.high', 'memory.swap.max', 'io.max', 'io.weight', 'pids.max', 'cpuset.cpus', 'cpuset.mems', 'hugetlb.2MB.max',
];

let tree: FakeTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

function v2Tree(extra: Record<string, string> = {}, omit: string[] = []) {
  const files: Record<string, string> = {
    'cgroup.controllers': CONTROLLERS,
    'cgroup.subtree_control': '',
    'isola/cgroup.controllers': CONTROLLERS,
    'isola/cgroup.subtree_control': '',
    'isola/web/cgroup.controllers': CONTROLLERS,
    'isola/web/cgroup.events': 'populated 0\nfrozen 0',
  };
  for (const f of LEAF_FILES) if (!omit.includes(f)) files[`isola/web/${f}`] = '';
  tree = fakeCgroupTree({ ...files, ...extra });
  const host: CgroupHost = { mode: 'v2', v1: [], v2: { mountpoint: tree.root, controllers: CONTROLLERS.split(' ') } };
  const journal: CgroupWrite[] = [];
  const cgroup = createCgroup('/isola/web', { host, journal });
  const written = () => journal.map((w) => `${w.file.slice(tree!.root.length + 1)}=${w.value}`);
  return { root: tree.root, cgroup, journal, written };
}

describe('cgroup v2 on a fake tree', () => {
  it('enables every offered controller down the tree, root first, then adds the process', async () => {
    const { cgroup, written, root } = v2Tree();
    await cgroup.apply(4242);
    expect(written()).toEqual([
      ...CONTROLLERS.split(' ').map((c) => `cgroup.subtree_control=+${c}`),
      ...CONTROLLERS.split(' ').map((c) => `isola/cgroup.subtree_control=+${c}`),
      'isola/web/cgroup.procs=4242',
    ]);
    expect(readFileSync(join(root, 'isola/web/cgroup.procs'), 'utf8')).toBe('4242');
    expect(cgroup.paths).toEqual({ '': join(root, 'isola/web') });
  });

  it('writes each resource to its v2 file with runc’s conversions', async () => {
    const { cgroup, written } = v2Tree();
    await cgroup.set({
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
      memory: { limit: 256 << 20, reservation: 128 << 20, swap: 512 << 20 },
      pids: { limit: 100 },
      blockIO: {
        weight: 500,
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      unified: { 'memory.high': '200000000' },
    });
    expect(written().filter((w) => w.startsWith('isola/web/'))).toEqual([
      'isola/web/cpuset.cpus=0-1',
      'isola/web/cpuset.mems=0',
      'isola/web/memory.swap.max=268435456', // memory+swap 512 MiB - memory 256 MiB
      'isola/web/memory.max=268435456',
      'isola/web/memory.low=134217728',
      'isola/web/cpu.weight=100',
      'isola/web/cpu.max=50000 100000',
      'isola/web/pids.max=100',
      'isola/web/io.weight=4950',
      'isola/web/io.max=8:0 rbps=1048576',
      'isola/web/io.max=8:16 wiops=300',
      'isola/web/hugetlb.2MB.max=4194304',
      'isola/web/memory.high=200000000',
    ]);
  });

  it('writes "max" for unlimited values and a burst after cpu.max when the kernel refuses it first', async () => {
    const { cgroup, written } = v2Tree({}, ['cpu.max.burst']);
    await expect(cgroup.set({ cpu: { burst: 1000 } })).rejects.toThrow('linux.resources.cpu.burst: this kernel has no CFS burst (cpu.max.burst missing)');
    await cgroup.set({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1, period: 200000 } });
    expect(written().filter((w) => w.startsWith('isola/web/'))).toEqual([
      'isola/web/memory.swap.max=max',
      'isola/web/memory.max=max',
      'isola/web/cpu.max=max 200000',
      'isola/web/pids.max=max',
    ]);
  });

  it('fails naming the field for what v2 cannot honour', async () => {
    const noSwap = v2Tree({}, ['memory.swap.max']).cgroup;
    await expect(noSwap.set({ memory: { limit: 100 << 20, swap: 200 << 20 } })).rejects.toThrow(
      'linux.resources.memory.swap: swap accounting is not enabled (memory.swap.max missing)',
    );
    tree!.remove();
    const { cgroup } = v2Tree();
    await expect(cgroup.set({ memory: { swappiness: 10 } })).rejects.toThrow('linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness');
    await expect(cgroup.set({ cpu: { realtimeRuntime: 950 } })).rejects.toThrow('linux.resources.cpu.realtimeRuntime: cgroup v2 has no realtime CPU budget');
    await expect(cgroup.set({ devices: [{ allow: false, access: 'rwm' }] })).rejects.toThrow(
      'linux.resources.devices[0]: device rules are not supported on cgroup v2 yet (they need an eBPF device program)',
    );
    await expect(cgroup.set({ devices: [{ allow: true, access: 'rwm' }] })).resolves.toBeUndefined();
    await expect(cgroup.set({ unified: { 'misc.max': 'x' } })).rejects.toThrow('linux.resources.unified: the misc controller is not available in');
    await expect(cgroup.set({ unified: { '../escape': '1' } })).rejects.toThrow('is not a cgroup interface file name');
    await expect(cgroup.set({ unified: { 'cgroup.nope': '1' } })).rejects.toThrow(/unified\["cgroup.nope"\]: .* does not exist/);
  });

  it('reads freezer state and stats from the v2 files', async () => {
    const { cgroup } = v2Tree({
      'isola/web/cgroup.freeze': '1',
      'isola/web/cgroup.events': 'populated 1\nfrozen 1',
      'isola/web/cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 2\nthrottled_usec 30',
      'isola/web/memory.current': '8192',
      'isola/web/memory.max': 'max',
      'isola/web/memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1',
      'isola/web/memory.stat': 'anon 4096\nfile 4096',
      'isola/web/pids.current': '2',
      'isola/web/pids.max': '10',
      'isola/web/io.stat': '8:0 rbytes=4096 wbytes=512 rios=1 wios=2 dbytes=0 dios=0',
      'isola/web/hugetlb.2MB.current': '0',
      'isola/web/hugetlb.2MB.events': 'max 0',
    });
    expect(await cgroup.state()).toBe('frozen');
    expect(await cgroup.oomKills()).toBe(1);
    const stats = await cgroup.stats();
    expect(stats.cpu).toEqual({
      usage: { total: 1_500_000, user: 1_000_000, kernel: 500_000 },
      throttling: { periods: 4, throttledPeriods: 2, throttledTime: 30_000 },
    });
    expect(stats.memory.usage).toEqual({ usage: 8192, max: 0, limit: 2 ** 64 - 1, failcnt: 3 });
    expect(stats.memory.cache).toBe(4096);
    expect(stats.pids).toEqual({ current: 2, limit: 10 });
    expect(stats.blkio.ioServiceBytesRecursive).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 512 },
    ]);
    expect(stats.hugetlb).toEqual({ '2MB': { usage: 0, max: 0, failcnt: 0 } });
  });
});

describe('v1 → v2 value conversions', () => {
  it('maps shares to weight with runc’s curve: 2→1, 1024→100 (the defaults agree), 262144→10000', () => {
    expect([0, 2, 1024, 262144, 512, 2048].map(sharesToWeight)).toEqual([0, 1, 100, 10000, 59, 174]);
  });

  it('builds cpu.max lines', () => {
    expect(cpuMaxValue(50000, 100000)).toBe('50000 100000');
    expect(cpuMaxValue(50000, undefined)).toBe('50000');
    expect(cpuMaxValue(-1, undefined)).toBe('max');
  });

  it('turns memory+swap into swap alone', () => {
    expect(swapV2(300, 100)).toBe(200);
    expect(swapV2(0, -1)).toBe(-1);
    expect(swapV2(-1, 100)).toBe(-1);
    expect(() => swapV2(50, 100)).toThrow('linux.resources.memory.swap: memory+swap (50) must be at least memory.limit (100)');
    expect(() => swapV2(50, 0)).toThrow('a swap limit needs a memory limit');
  });

  it('maps blkio weight [10, 1000] to io.weight [1, 10000]', () => {
    expect([10, 500, 1000].map(blkioWeightToIoWeight)).toEqual([1, 4950, 10000]);
  });
});
