// What every controller module (v1/<name>.ts, v2/<name>.ts) provides, so the manager can treat the
// three host modes alike: on a hybrid host a resource goes to whichever hierarchy holds its controller.
import type { LinuxResources } from '../spec/types.js';
import type { CgroupDir } from './dir.js';
import type { CgroupStats } from './stats.js';

export interface Controller {
  /** The kernel's name: the v1 hierarchy it is bound to, or the word in v2's cgroup.controllers. */
  readonly name: string;
  /** The config.json field it serves, for "not available on this host" errors. */
  readonly field: string;
  /** Whether `resources` asks anything of this controller. */
  wanted(resources: LinuxResources): boolean;
  set(dir: CgroupDir, resources: LinuxResources): void;
  stats?(dir: CgroupDir, stats: CgroupStats): void;
}

export const RESOURCES = 'linux.resources';

/** Where a cgroup stands for pause/resume: freezing is the moment between asking and every task stopping. */
export type FreezerState = 'thawed' | 'freezing' | 'frozen';
