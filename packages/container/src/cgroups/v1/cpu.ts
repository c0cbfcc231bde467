// The v1 cpu controller: CFS shares, quota/period/burst, the realtime budget and SCHED_IDLE. Follows runc
// libcontainer/cgroups/fs/cpu.go, including its write order for quota and period.
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { type CgroupDir, unsupported } from '../dir.js';
import type { CgroupStats } from '../stats.js';

const F = 'linux.resources.cpu';

const set = (v: number | undefined): v is number => v !== undefined && v !== 0;

export const cpu: Controller = {
  name: 'cpu',
  field: F,
  wanted: (r: LinuxResources) => {
    const c = r.cpu;
    return c !== undefined && [c.shares, c.quota, c.period, c.burst, c.realtimePeriod, c.realtimeRuntime, c.idle].some((v) => v !== undefined);
  },

  set(dir: CgroupDir, r: LinuxResources): void {
    const c = r.cpu;
    if (!c) return;
    // The realtime budget first: a task with an RT policy cannot join a cgroup without one.
    if (set(c.realtimePeriod)) dir.write('cpu.rt_period_us', c.realtimePeriod, `${F}.realtimePeriod`);
    if (set(c.realtimeRuntime)) dir.write('cpu.rt_runtime_us', c.realtimeRuntime, `${F}.realtimeRuntime`);
    if (set(c.shares)) {
      dir.write('cpu.shares', c.shares, `${F}.shares`);
      // The kernel silently clamps shares to [2, 262144]; runc reports the clamp, and so do we.
      const actual = Number(dir.read('cpu.shares'));
      if (actual !== c.shares) throw unsupported(`${F}.shares`, `the kernel clamped ${c.shares} to ${actual} (the range is 2-262144)`);
    }
    // A smaller period can be refused (EINVAL) because old quota / new period would exceed the parent's
    // bandwidth; when a quota is also coming, write the period again after it.
    let periodPending = false;
    if (set(c.period)) {
      const error = dir.tryWrite('cpu.cfs_period_us', c.period);
      if (error && (error.code !== 'EINVAL' || !set(c.quota))) dir.write('cpu.cfs_period_us', c.period, `${F}.period`);
      periodPending = error !== undefined;
    }
    if (set(c.quota)) {
      dir.write('cpu.cfs_quota_us', c.quota, `${F}.quota`);
      if (periodPending) dir.write('cpu.cfs_period_us', c.period!, `${F}.period`);
    }
    if (c.burst !== undefined) {
      if (!dir.exists('cpu.cfs_burst_us')) throw unsupported(`${F}.burst`, 'this kernel has no CFS burst (cpu.cfs_burst_us missing)');
      dir.write('cpu.cfs_burst_us', c.burst, `${F}.burst`);
    }
    if (c.idle !== undefined) {
      if (!dir.exists('cpu.idle')) throw unsupported(`${F}.idle`, 'this kernel has no cgroup SCHED_IDLE (cpu.idle missing)');
      dir.write('cpu.idle', c.idle, `${F}.idle`);
    }
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    const s = dir.readKeyed('cpu.stat');
    stats.cpu.throttling = { periods: s.nr_periods ?? 0, throttledPeriods: s.nr_throttled ?? 0, throttledTime: s.throttled_time ?? 0 };
  },
};
