// The v2 memory controller: memory.max, memory.low and memory.swap.max. The spec's `swap` is memory+swap
// (a v1 notion); v2 limits swap alone, so it is converted the way runc's ConvertMemorySwapToCgroupV2Value
// does. v2 has no swappiness or OOM-killer switch per cgroup: asking for them fails rather than being
// silently ignored.
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { type CgroupDir, invalidValue, unsupported } from '../dir.js';
import type { CgroupStats } from '../stats.js';

const F = 'linux.resources.memory';
const UNLIMITED = 2 ** 64 - 1; // what runc reports for "max"

/** -1 → "max", others as they are (0, meaning "leave alone", is filtered out by the caller). */
export const limitValue = (n: number): string => (n === -1 ? 'max' : String(n));

/** The spec's memory+swap limit → v2's swap-only limit: -1 "max", 0 "leave alone". */
export function swapV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1; // "memory unlimited" implies swap unlimited, as on v1
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) throw invalidValue(`${F}.swap`, 'a swap limit needs a memory limit');
  if (swap < limit) throw invalidValue(`${F}.swap`, `memory+swap (${swap}) must be at least memory.limit (${limit})`);
  return swap - limit;
}

export const memory: Controller = {
  name: 'memory',
  field: F,
  wanted: (r: LinuxResources) => r.memory !== undefined && Object.values(r.memory).some((v) => v !== undefined),

  set(dir: CgroupDir, r: LinuxResources): void {
    const m = r.memory;
    if (!m) return;
    const limit = m.limit ?? 0;
    const swap = swapV2(m.swap ?? 0, limit);
    if (m.swappiness !== undefined) throw unsupported(`${F}.swappiness`, 'cgroup v2 has no per-cgroup swappiness');
    if (m.disableOOMKiller) throw unsupported(`${F}.disableOOMKiller`, 'cgroup v2 cannot disable the OOM killer for a cgroup');
    if (m.kernel) throw unsupported(`${F}.kernel`, 'kernel memory limits do not exist on cgroup v2');
    if (m.kernelTCP) throw unsupported(`${F}.kernelTCP`, 'kernel TCP memory limits do not exist on cgroup v2');
    if (swap !== 0) {
      if (dir.exists('memory.swap.max')) dir.write('memory.swap.max', limitValue(swap), `${F}.swap`);
      // Unlimited swap on a host without swap accounting is what it gets anyway.
      else if (swap !== -1) throw unsupported(`${F}.swap`, 'swap accounting is not enabled (memory.swap.max missing)');
    }
    if (limit !== 0) {
      if (m.checkBeforeUpdate && limit > 0) {
        const current = dir.readNumber('memory.current');
        if (current > limit) throw invalidValue(`${F}.limit`, `${limit} is below the current usage of ${current} bytes (checkBeforeUpdate)`);
      }
      dir.write('memory.max', limitValue(limit), `${F}.limit`);
    }
    if (m.reservation) dir.write('memory.low', limitValue(m.reservation), `${F}.reservation`);
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    const limitOf = (file: string): number => {
      const text = dir.readOptional(file);
      return text === undefined || text === 'max' ? UNLIMITED : Number(text);
    };
    const usage = dir.readNumber('memory.current');
    const events = dir.readKeyed('memory.events');
    stats.memory.usage = { usage, max: dir.readNumber('memory.peak'), limit: limitOf('memory.max'), failcnt: events.max ?? 0 };
    // runc reports v2 swap as memory+swap, so numbers compare with v1 hosts.
    const swapLimit = limitOf('memory.swap.max');
    const memLimit = stats.memory.usage.limit;
    stats.memory.swap = {
      usage: usage + dir.readNumber('memory.swap.current'),
      max: 0,
      limit: swapLimit === UNLIMITED || memLimit === UNLIMITED ? UNLIMITED : swapLimit + memLimit,
      failcnt: dir.readKeyed('memory.swap.events').max ?? 0,
    };
    stats.memory.raw = dir.readKeyed('memory.stat');
    stats.memory.cache = stats.memory.raw.file ?? 0;
  },
};

/** OOM kills in this cgroup so far (memory.events oom_kill). */
export function oomKills(dir: CgroupDir): number {
  return dir.readKeyed('memory.events').oom_kill ?? 0;
}
