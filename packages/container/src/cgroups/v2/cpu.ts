// The v2 cpu controller: cpu.weight (converted from the spec's v1 shares), cpu.max ("quota period"),
// cpu.max.burst and cpu.idle. Follows runc libcontainer/cgroups/fs2/cpu.go.
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { type CgroupDir, unsupported } from '../dir.js';
import type { CgroupStats } from '../stats.js';

const F = 'linux.resources.cpu';

/**
 * Shares [2, 262144] → weight [1, 10000] with the curve runc and crun adopted in 2025 (runc #4785,
 * opencontainers/cgroups): a quadratic in log2(shares) chosen so the default 1024 maps to the default
 * weight 100. The older linear formula, 1 + (shares - 2) * 9999 / 262142, put 1024 at 39, which left
 * every container with a default share starved next to host services at weight 100.
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** The cpu.max line: "max" or the quota, then the period when one is given. */
export function cpuMaxValue(quota: number | undefined, period: number | undefined): string {
  const q = quota !== undefined && quota > 0 ? String(quota) : 'max';
  return period ? `${q} ${period}` : q;
}

export const cpu: Controller = {
  name: 'cpu',
  field: F,
  wanted: (r: LinuxResources) => {
    const c = r.cpu;
    return c !== undefined && [c.shares, c.quota, c.period, c.burst, c.idle, c.realtimePeriod, c.realtimeRuntime].some((v) => v !== undefined);
  },

  set(dir: CgroupDir, r: LinuxResources): void {
    const c = r.cpu;
    if (!c) return;
    if (c.realtimePeriod || c.realtimeRuntime) throw unsupported(`${F}.${c.realtimePeriod ? 'realtimePeriod' : 'realtimeRuntime'}`, 'cgroup v2 has no realtime CPU budget');
    if (c.idle !== undefined) dir.write('cpu.idle', c.idle, `${F}.idle`);
    if (c.shares) dir.write('cpu.weight', sharesToWeight(c.shares), `${F}.shares`);
    // The kernel refuses a burst above the quota: when lowering both, the burst must go first, and when
    // raising both, cpu.max must. Try the burst, and if refused, write it again after cpu.max.
    const burstFirst = c.burst === undefined ? undefined : dir.tryWrite('cpu.max.burst', c.burst);
    if (c.quota || c.period) dir.write('cpu.max', cpuMaxValue(c.quota, c.period), `${F}.${c.quota ? 'quota' : 'period'}`);
    if (c.burst !== undefined && burstFirst) {
      if (burstFirst.code === 'ENOENT') throw unsupported(`${F}.burst`, 'this kernel has no CFS burst (cpu.max.burst missing)');
      dir.write('cpu.max.burst', c.burst, `${F}.burst`);
    }
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    const s = dir.readKeyed('cpu.stat');
    stats.cpu.usage.total = (s.usage_usec ?? 0) * 1000;
    stats.cpu.usage.user = (s.user_usec ?? 0) * 1000;
    stats.cpu.usage.kernel = (s.system_usec ?? 0) * 1000;
    stats.cpu.throttling = { periods: s.nr_periods ?? 0, throttledPeriods: s.nr_throttled ?? 0, throttledTime: (s.throttled_usec ?? 0) * 1000 };
  },
};
