// cgroup v1 writing against a fake tree: the ordering rules and the errors runc's semantics call for.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CgroupWrite } from '../dir.js';
import { createCgroup } from '../manager.js';
import type { CgroupHost } from '../mounts.js';
import { type FakeTree, fakeCgroupTree } from '../testing.js';
import { parseBlkioEntries } from './blkio.js';
import { deviceRuleLine } from './devices.js';

let tree: FakeTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

function v1Tree(files: Record<string, string>) {
  tree = fakeCgroupTree(files);
  const host: CgroupHost = {
    mode: 'v1',
    v1: [
      { mountpoint: join(tree.root, 'memory'), controllers: ['memory'] },
      { mountpoint: join(tree.root, 'cpuset'), controllers: ['cpuset'] },
    ],
    v2: null,
  };
  const journal: CgroupWrite[] = [];
  const cgroup = createCgroup('/isola/web', { host, journal });
  return { cgroup, root: tree.root, written: () => journal.map((w) => `${w.file.slice(tree!.root.length + 1)}=${w.value}`) };
}

const CPUSET = {
  'memory/cgroup.procs': '',
  'cpuset/cpuset.cpus': '0-1',
  'cpuset/cpuset.mems': '0',
  'cpuset/isola/cpuset.cpus': '',
  'cpuset/isola/cpuset.mems': '',
  'cpuset/isola/web/cpuset.cpus': '',
  'cpuset/isola/web/cpuset.mems': '',
};

describe('cgroup v1 on a fake tree', () => {
  it('gives each new cpuset level its parent’s cpus and mems before anything joins', () => {
    const { cgroup, written, root } = v1Tree(CPUSET);
    cgroup.create();
    expect(written()).toEqual(['cpuset/isola/cpuset.cpus=0-1', 'cpuset/isola/cpuset.mems=0', 'cpuset/isola/web/cpuset.cpus=0-1', 'cpuset/isola/web/cpuset.mems=0']);
    expect(readFileSync(join(root, 'cpuset/isola/web/cpuset.cpus'), 'utf8')).toBe('0-1');
  });

  it('orders memory and memory+swap so that memsw >= memory holds at every step', async () => {
    const files = { ...CPUSET, 'memory/isola/web/memory.limit_in_bytes': '104857600', 'memory/isola/web/memory.memsw.limit_in_bytes': '209715200' };
    const growing = v1Tree(files);
    await growing.cgroup.set({ memory: { limit: 300 << 20, swap: 600 << 20 } });
    expect(growing.written().filter((w) => w.startsWith('memory/'))).toEqual([
      `memory/isola/web/memory.memsw.limit_in_bytes=${600 << 20}`,
      `memory/isola/web/memory.limit_in_bytes=${300 << 20}`,
    ]);
    tree!.remove();
    const shrinking = v1Tree(files);
    await shrinking.cgroup.set({ memory: { limit: 50 << 20, swap: 60 << 20 } });
    expect(shrinking.written().filter((w) => w.startsWith('memory/'))).toEqual([
      `memory/isola/web/memory.limit_in_bytes=${50 << 20}`,
      `memory/isola/web/memory.memsw.limit_in_bytes=${60 << 20}`,
    ]);
  });

  it('fails naming the field when swap accounting is off, and for a controller the host lacks', async () => {
    const { cgroup } = v1Tree({ ...CPUSET, 'memory/isola/web/memory.limit_in_bytes': '' });
    await expect(cgroup.set({ memory: { limit: 100 << 20, swap: 200 << 20 } })).rejects.toThrow(
      'linux.resources.memory.swap: swap accounting is not enabled (memory.memsw.limit_in_bytes missing)',
    );
    await expect(cgroup.set({ pids: { limit: 5 } })).rejects.toThrow('linux.resources.pids: the pids cgroup controller is not available on this host');
    await expect(cgroup.set({ unified: { 'memory.high': '1' } })).rejects.toThrow('linux.resources.unified: this host has no cgroup v2 hierarchy');
    await expect(cgroup.set({ rdma: { mlx5_1: { hcaHandles: 3 } } })).rejects.toThrow('linux.resources.rdma: rdma limits are not supported yet');
    await expect(cgroup.set({ memory: { swappiness: 101 } })).rejects.toThrow('linux.resources.memory.swappiness: 101 is outside 0-100');
  });

  it('formats device rules and parses blkio counters', () => {
    expect(deviceRuleLine({ allow: false, access: 'rwm' })).toBe('a *:* rwm');
    expect(deviceRuleLine({ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' })).toBe('c 1:3 rw');
    expect(deviceRuleLine({ allow: true, type: 'c', major: 136 })).toBe('c 136:* rwm');
    expect(parseBlkioEntries('8:0 Read 4096\n8:0 Write 0\nTotal 4096')).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 0 },
    ]);
  });
});
