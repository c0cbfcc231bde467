// What a detached VM is doing now, from its record and the live system. A VM runs inside its monitor
// process, so it is running exactly while that process (same pid, same start time, same boot) lives:
// a record that says running after the process died is reported stopped, never running.
import { bootId, isAlive } from '@isola/sys';
import type { VmConfig, VmRecord, VmStore } from './store.js';

export type VmStatus = 'starting' | 'running' | 'stopped';

export interface ObservedVm {
  config: VmConfig;
  status: VmStatus;
  record: VmRecord | undefined;
}

export function monitorAlive(record: VmRecord): boolean {
  return record.bootId === bootId() && isAlive(record.pid, record.startTime);
}

export function observeVm(store: VmStore, id: string): ObservedVm {
  const config = store.config(id);
  const record = store.record(id);
  if (!record) return { config, status: 'stopped', record };
  if (record.status === 'stopped') return { config, status: 'stopped', record };
  if (monitorAlive(record)) return { config, status: record.status, record };
  // The monitor died without recording the end (SIGKILL, a crash, a reboot): fold that in.
  const stopped: VmRecord = { ...record, status: 'stopped', finishedAt: record.finishedAt ?? new Date().toISOString(), end: record.end ?? 'the monitor process died' };
  store.writeRecord(id, stopped);
  return { config, status: 'stopped', record: stopped };
}
