// The v1 cpuacct controller: CPU time used, in total, per CPU, and split into user and kernel time.
// It sets nothing; it is joined so that stats have something to read.
import type { Controller } from '../controller.js';
import type { CgroupDir } from '../dir.js';
import type { CgroupStats } from '../stats.js';

// cpuacct.stat counts in USER_HZ ticks, which is 100 on every Linux ABI node runs on.
const NS_PER_TICK = 1e9 / 100;

const list = (text: string | undefined): number[] | undefined => (text ? text.split(/\s+/).map(Number) : undefined);

export const cpuacct: Controller = {
  name: 'cpuacct',
  field: 'linux.resources.cpu',
  wanted: () => false,
  set: () => undefined,

  stats(dir: CgroupDir, stats: CgroupStats): void {
    const ticks = dir.readKeyed('cpuacct.stat');
    const usage = stats.cpu.usage;
    usage.total = dir.readNumber('cpuacct.usage');
    usage.user = (ticks.user ?? 0) * NS_PER_TICK;
    usage.kernel = (ticks.system ?? 0) * NS_PER_TICK;
    const percpu = list(dir.readOptional('cpuacct.usage_percpu'));
    const user = list(dir.readOptional('cpuacct.usage_percpu_user'));
    const kernel = list(dir.readOptional('cpuacct.usage_percpu_sys'));
    if (percpu) usage.percpu = percpu;
    if (user) usage.percpu_user = user;
    if (kernel) usage.percpu_kernel = kernel;
  },
};
