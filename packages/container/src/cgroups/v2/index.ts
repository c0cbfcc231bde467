// The cgroup v2 controllers, one module each; the manager picks them by name.
export { memory, oomKills } from './memory.js';
export { cpu } from './cpu.js';
export { cpuset } from './cpuset.js';
export { pids } from './pids.js';
export { io } from './io.js';
export { hugetlb } from './hugetlb.js';
export { devices } from './devices.js';
export { freezerState, setFrozen } from './freezer.js';
export { setUnified, unifiedControllers } from './unified.js';
