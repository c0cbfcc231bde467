// The v2 cpuset controller. Unlike v1, an empty cpuset.cpus/mems inherits the parent's effective set, so
// nothing needs copying down before a task joins.
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import type { CgroupDir } from '../dir.js';

const F = 'linux.resources.cpu';

export const cpuset: Controller = {
  name: 'cpuset',
  field: F,
  wanted: (r: LinuxResources) => Boolean(r.cpu?.cpus || r.cpu?.mems),

  set(dir: CgroupDir, r: LinuxResources): void {
    if (r.cpu?.cpus) dir.write('cpuset.cpus', r.cpu.cpus, `${F}.cpus`);
    if (r.cpu?.mems) dir.write('cpuset.mems', r.cpu.mems, `${F}.mems`);
  },
};
