// Detached VMs (`isola vm run -d`, ls, stop, rm, logs): one directory per VM, one monitor process each.
export { startDetachedVm, type DetachedVmOptions } from './start.js';
export { listVms, vmTable, type VmSummary } from './list.js';
export { stopVm, type StopResult } from './stop.js';
export { removeVm } from './remove.js';
export { vmLogs, type VmLogsOptions } from './logs.js';
export { observeVm, type ObservedVm, type VmStatus } from './observe.js';
export { VmStore, defaultRoot, type VmConfig, type VmRecord } from './store.js';
