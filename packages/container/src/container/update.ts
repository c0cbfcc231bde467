// `update`: change a live container's cgroup limits (runc update; what Kubernetes' in-place resize and
// `podman update` call). Only the fields given change; the record keeps the merged resources.
import { IsolaError } from '@isola/errors';
import { createCgroup } from '../cgroups/index.js';
import type { LinuxResources } from '../spec/types.js';
import { StateStore } from '../state/store.js';
import { statusOf } from './status.js';

type Family = Exclude<keyof LinuxResources, 'devices' | 'hugepageLimits'>;

/** `changes` merged over `current`, family by family (memory, cpu, pids...), as runc merges them. */
export function mergeResources(current: LinuxResources = {}, changes: LinuxResources): LinuxResources {
  const merged: LinuxResources = { ...current };
  for (const [key, value] of Object.entries(changes) as Array<[keyof LinuxResources, unknown]>) {
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    (merged as Record<string, unknown>)[key] = isObject ? { ...(current[key as Family] as object | undefined), ...value } : value;
  }
  return merged;
}

export async function updateContainer(id: string, changes: LinuxResources, options: { root?: string } = {}): Promise<void> {
  const store = new StateStore(options.root);
  const record = store.read(id);
  const status = await statusOf(record);
  if (status === 'stopped') throw new IsolaError('ESTATE', `cannot update container "${id}": it has stopped`);
  if (changes.devices?.length) throw new IsolaError('EUNSUPPORTED', `cannot update container "${id}": device rules are fixed at create`);
  await createCgroup(record.cgroupPath).set(changes);
  const linux = record.config.linux ?? {};
  record.config = { ...record.config, linux: { ...linux, resources: mergeResources(linux.resources, changes) } };
  store.write(record);
}
