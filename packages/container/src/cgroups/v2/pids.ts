// The v2 pids controller: pids.max. 0 leaves the limit alone and a negative limit is "max", as in runc.
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import type { CgroupDir } from '../dir.js';
import type { CgroupStats } from '../stats.js';

export const pids: Controller = {
  name: 'pids',
  field: 'linux.resources.pids',
  wanted: (r: LinuxResources) => r.pids !== undefined && r.pids.limit !== 0,

  set(dir: CgroupDir, r: LinuxResources): void {
    if (r.pids && r.pids.limit !== 0) dir.write('pids.max', r.pids.limit < 0 ? 'max' : r.pids.limit, 'linux.resources.pids.limit');
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    stats.pids = { current: dir.readNumber('pids.current'), limit: dir.readNumber('pids.max') };
  },
};
