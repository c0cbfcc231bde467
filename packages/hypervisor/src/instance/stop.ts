// `isola vm stop`: a power-off request to the VM's monitor (SIGTERM: it presses Ctrl+Alt+Del for the
// guest and records the end when the guest acts on it), then SIGKILL if the monitor has not exited
// after the timeout, as docker stop does.
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorAlive, observeVm } from './observe.js';
import { VmStore, type VmRecord } from './store.js';

export interface StopResult {
  id: string;
  name: string;
  /** The monitor had to be killed. */
  killed: boolean;
}

async function gone(record: VmRecord, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (monitorAlive(record)) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Kills the monitor (by the pid its record names, checked against its start time) and waits for it. */
export async function killMonitor(record: VmRecord): Promise<void> {
  if (!monitorAlive(record)) return;
  try {
    process.kill(record.pid, 'SIGKILL');
  } catch {
    return;
  }
  await gone(record, 5000);
}

export async function stopVm(ref: string, options: { timeoutMs?: number; root?: string } = {}): Promise<StopResult> {
  const store = new VmStore(options.root);
  const id = store.resolve(ref);
  const observed = observeVm(store, id);
  const result = { id, name: observed.config.name, killed: false };
  const record = observed.record;
  if (observed.status === 'stopped' || !record) return result;
  try {
    process.kill(record.pid, 'SIGTERM');
  } catch {
    // it has just ended
  }
  if (!(await gone(record, options.timeoutMs ?? 10_000))) {
    await killMonitor(record);
    result.killed = true;
  }
  const after = observeVm(store, id);
  if (result.killed && after.record) store.writeRecord(id, { ...after.record, status: 'stopped', end: 'killed after the stop timeout' });
  return result;
}
