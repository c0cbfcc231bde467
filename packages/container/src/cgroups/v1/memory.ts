// The v1 memory controller: memory.limit_in_bytes, memory.memsw.limit_in_bytes (memory+swap, which is
// exactly what the spec's `swap` means), soft limit, swappiness and the OOM killer switch. Follows runc
// libcontainer/cgroups/fs/memory.go where the spec is silent.
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { type CgroupDir, invalidValue, unsupported } from '../dir.js';
import type { CgroupStats, MemoryEntry } from '../stats.js';

const F = 'linux.resources.memory';
const SWAP_FILE = 'memory.memsw.limit_in_bytes';

function setLimitAndSwap(dir: CgroupDir, limit: number, swap: number): void {
  // Setting memory to unlimited without saying anything about swap means both, as runc does: otherwise
  // the old memsw limit would still cap the container.
  if (limit === -1 && swap === 0) swap = -1;
  if (swap !== 0 && !dir.exists(SWAP_FILE)) {
    if (swap === -1) swap = 0; // "unlimited swap" is what a host without swap accounting gives anyway
    else throw unsupported(`${F}.swap`, `swap accounting is not enabled (${SWAP_FILE} missing)`);
  }
  if (limit !== 0 && swap !== 0) {
    // The kernel requires memsw >= memory at every instant, so the order of the two writes depends on
    // whether the limits are growing or shrinking.
    const current = Number(dir.read('memory.limit_in_bytes'));
    if (swap === -1 || current < swap) {
      dir.write(SWAP_FILE, swap, `${F}.swap`);
      dir.write('memory.limit_in_bytes', limit, `${F}.limit`);
    } else {
      dir.write('memory.limit_in_bytes', limit, `${F}.limit`);
      dir.write(SWAP_FILE, swap, `${F}.swap`);
    }
    return;
  }
  if (limit !== 0) dir.write('memory.limit_in_bytes', limit, `${F}.limit`);
  if (swap !== 0) dir.write(SWAP_FILE, swap, `${F}.swap`);
}

export const memory: Controller = {
  name: 'memory',
  field: F,
  wanted: (r: LinuxResources) => r.memory !== undefined && Object.values(r.memory).some((v) => v !== undefined),

  set(dir: CgroupDir, r: LinuxResources): void {
    const m = r.memory;
    if (!m) return;
    setLimitAndSwap(dir, m.limit ?? 0, m.swap ?? 0);
    if (m.reservation !== undefined && m.reservation !== 0) dir.write('memory.soft_limit_in_bytes', m.reservation, `${F}.reservation`);
    if (m.kernel !== undefined && m.kernel !== 0) {
      // Kernel memory limits were deprecated in 5.4 and are ignored or refused by current kernels.
      throw unsupported(`${F}.kernel`, 'kernel memory limits are deprecated by the kernel and not supported');
    }
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) dir.write('memory.kmem.tcp.limit_in_bytes', m.kernelTCP, `${F}.kernelTCP`);
    if (m.swappiness !== undefined) {
      if (m.swappiness < 0 || m.swappiness > 100) throw invalidValue(`${F}.swappiness`, `${m.swappiness} is outside 0-100`);
      dir.write('memory.swappiness', m.swappiness, `${F}.swappiness`);
    }
    if (m.disableOOMKiller) dir.write('memory.oom_control', 1, `${F}.disableOOMKiller`);
    if (m.useHierarchy !== undefined) dir.write('memory.use_hierarchy', m.useHierarchy ? 1 : 0, `${F}.useHierarchy`);
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    const entry = (prefix: string): MemoryEntry => ({
      usage: dir.readNumber(`${prefix}usage_in_bytes`),
      max: dir.readNumber(`${prefix}max_usage_in_bytes`),
      limit: dir.readNumber(`${prefix}limit_in_bytes`),
      failcnt: dir.readNumber(`${prefix}failcnt`),
    });
    stats.memory.usage = entry('memory.');
    stats.memory.swap = entry('memory.memsw.');
    stats.memory.kernel = entry('memory.kmem.');
    stats.memory.kernelTCP = entry('memory.kmem.tcp.');
    stats.memory.raw = dir.readKeyed('memory.stat');
    stats.memory.cache = stats.memory.raw.cache ?? 0;
  },
};

/** OOM kills in this cgroup so far (memory.oom_control's oom_kill, kernel 4.13+). */
export function oomKills(dir: CgroupDir): number {
  return dir.readKeyed('memory.oom_control').oom_kill ?? 0;
}
