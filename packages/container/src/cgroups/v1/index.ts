// The cgroup v1 controllers, one module each; the manager picks them by name.
export { memory, oomKills } from './memory.js';
export { cpu } from './cpu.js';
export { cpuacct } from './cpuacct.js';
export { cpuset, initCpuset } from './cpuset.js';
export { pids } from './pids.js';
export { blkio } from './blkio.js';
export { hugetlb } from './hugetlb.js';
export { devices } from './devices.js';
export { freezerState, setFrozen } from './freezer.js';
