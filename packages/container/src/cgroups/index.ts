// Control groups for containers on cgroup v1, v2 and hybrid hosts: the public API.
export { createCgroup, type Cgroup, type CgroupOptions } from './manager.js';
export { primeAttach, ownCgroupProcs } from './prime.js';
export type { FreezerState } from './controller.js';
export {
  parseCgroupMounts,
  cgroupLayout,
  cgroupHost,
  readCgroupHost,
  readCgroupMounts,
  conventionalCgroupMounts,
  readControllers,
  locateController,
  type CgroupMode,
  type CgroupMount,
  type CgroupDetails,
  type CgroupHost,
  type V1Hierarchy,
} from './mounts.js';
export { resolveCgroupsPath, isSystemdCgroupsPath, expandSlice } from './path.js';
export type { CgroupStats, CpuUsage, Throttling, MemoryStats, MemoryEntry, BlkioStats, BlkioEntry, HugetlbStats } from './stats.js';
export type { CgroupWrite } from './dir.js';
export { sharesToWeight, cpuMaxValue } from './v2/cpu.js';
export { swapV2 } from './v2/memory.js';
export { blkioWeightToIoWeight } from './v2/io.js';
