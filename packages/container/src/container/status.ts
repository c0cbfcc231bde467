// A container's status, from its record and the live system: runtime-spec's created/running/stopped,
// plus paused for a frozen cgroup (as runc reports it).
import { createCgroup } from '../cgroups/index.js';
import type { State } from '../spec/types.js';
import { isAlive } from '@isola/sys';
import type { ContainerRecord } from '../state/store.js';

export type Status = State['status'] | 'paused';

export async function statusOf(record: ContainerRecord): Promise<Status> {
  if (!isAlive(record.pid, record.startTime)) return 'stopped';
  if (!record.started) return 'created';
  try {
    if ((await createCgroup(record.cgroupPath).state()) === 'frozen') return 'paused';
  } catch {
    // no freezer: cannot be paused
  }
  return 'running';
}

/** What `isola-runtime state` prints: runc's fields, in runc's order. */
export interface StateOutput {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export async function stateOutput(record: ContainerRecord): Promise<StateOutput> {
  const status = await statusOf(record);
  const out: StateOutput = {
    ociVersion: record.config.ociVersion, id: record.id, pid: status === 'stopped' ? 0 : record.pid, status,
    bundle: record.bundle, rootfs: record.rootfs, created: record.created, owner: '',
  };
  if (Object.keys(record.annotations).length) out.annotations = record.annotations;
  return out;
}
