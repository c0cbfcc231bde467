// `isola volume rm` and `isola volume prune`: a volume a container uses is refused (docker's rule, even
// with -f: remove the container first), and so is a volume that does not exist, unless forced.
import { IsolaError } from '@isola/errors';
import { openStores } from '../containers/create.js';
import { VolumeStore } from './store.js';
import { volumeUsers } from './users.js';

export async function removeVolumes(names: readonly string[], options: { root?: string; force?: boolean } = {}): Promise<string[]> {
  const { containers } = await openStores(options.root);
  const volumes = new VolumeStore(containers.root);
  const removed: string[] = [];
  const failures: string[] = [];
  for (const name of names) {
    try {
      volumes.get(name);
      const users = volumeUsers(containers, name);
      if (users.length) throw new IsolaError('EBUSY', `volume ${name} is in use by container ${users.map((id) => id.slice(0, 12)).join(', ')}: remove the container first`);
      volumes.remove(name);
      removed.push(name);
    } catch (error) {
      if (options.force && (error as { code?: string }).code === 'ENOTFOUND') continue;
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (failures.length === 1) throw new IsolaError(failures[0]!.startsWith('no such') ? 'ENOTFOUND' : 'EBUSY', failures[0]!);
  if (failures.length > 1) throw new IsolaError('EMULTIPLE', failures.join('; '));
  return removed;
}

/** Removes the volumes no container uses: anonymous ones, or all of them with `all` (docker 23's rule). */
export async function pruneVolumes(options: { root?: string; all?: boolean } = {}): Promise<string[]> {
  const { containers } = await openStores(options.root);
  const volumes = new VolumeStore(containers.root);
  const removed: string[] = [];
  for (const record of volumes.list()) {
    if (!options.all && !record.anonymous) continue;
    if (volumeUsers(containers, record.name).length) continue;
    volumes.remove(record.name);
    removed.push(record.name);
  }
  return removed;
}
