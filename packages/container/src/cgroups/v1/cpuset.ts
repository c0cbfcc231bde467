// The v1 cpuset controller. A new v1 cpuset starts with empty cpus and mems, and a task cannot join
// it until both are set, so every directory we create is first given its parent's values
// (initCpuset), the way runc's ensureParent does; set() then narrows them.
import { dirname } from 'node:path';
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { CgroupDir } from '../dir.js';

const F = 'linux.resources.cpu';

export const cpuset: Controller = {
  name: 'cpuset',
  field: F,
  wanted: (r: LinuxResources) => Boolean(r.cpu?.cpus || r.cpu?.mems),

  set(dir: CgroupDir, r: LinuxResources): void {
    // mems before cpus is as good as the reverse; both must be non-empty and within the parent's.
    if (r.cpu?.mems) dir.write('cpuset.mems', r.cpu.mems, `${F}.mems`);
    if (r.cpu?.cpus) dir.write('cpuset.cpus', r.cpu.cpus, `${F}.cpus`);
  },
};

/** Give a freshly made cpuset directory its parent's cpus and mems, if it has none yet. */
export function initCpuset(dir: CgroupDir): void {
  const parent = new CgroupDir(dirname(dir.path));
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    if (dir.read(file) === '') dir.write(file, parent.read(file));
  }
}
