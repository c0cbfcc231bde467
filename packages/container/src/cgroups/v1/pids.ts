// The v1 pids controller: pids.max. As in runc, 0 leaves the limit alone and a negative limit means
// "max" (no limit).
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import type { CgroupDir } from '../dir.js';
import type { CgroupStats } from '../stats.js';

export function pidsMaxValue(limit: number): string {
  return limit < 0 ? 'max' : String(limit);
}

export const pids: Controller = {
  name: 'pids',
  field: 'linux.resources.pids',
  wanted: (r: LinuxResources) => r.pids !== undefined && r.pids.limit !== 0,

  set(dir: CgroupDir, r: LinuxResources): void {
    if (r.pids && r.pids.limit !== 0) dir.write('pids.max', pidsMaxValue(r.pids.limit), 'linux.resources.pids.limit');
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    stats.pids = { current: dir.readNumber('pids.current'), limit: dir.readNumber('pids.max') };
  },
};
