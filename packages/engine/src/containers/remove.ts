// `isola rm`: a container and everything it used: its processes (with --force), the runtime's state
// and cgroup, the rootfs (unmounted if it still is, upper layer deleted, image lease released), the
// name, the log and the record. Nothing of it is left on the host afterwards.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolaError } from '@isola/errors';
import { deleteContainer } from '@isola/container';
import { type ImageStore, removeRootfs } from '@isola/image';
import { isAlive, observe } from './observe.js';
import type { ContainerStore } from './store.js';
import type { MountRecord } from '../volumes/attach.js';
import { VolumeStore } from '../volumes/store.js';
import { volumeUsers } from '../volumes/users.js';
import { detachNetwork } from '../networks/detach.js';

export interface RemoveOptions {
  /** Kill a running container first (docker rm -f). */
  force?: boolean;
  /** Remove its anonymous volumes too (docker rm -v); --rm containers always do. */
  volumes?: boolean;
  /**
   * The caller was the init's parent and has reaped it (a foreground --rm): there is no monitor, and
   * nothing to observe or record about an exit that nobody will read.
   */
  reaped?: boolean;
}

export async function removeContainer(containers: ContainerStore, images: ImageStore, id: string, options: RemoveOptions = {}): Promise<void> {
  let config;
  try {
    config = containers.config(id);
  } catch {
    return; // already removed (a --rm cleanup and `rm` racing)
  }
  const observed = options.reaped ? undefined : await observe(containers, id);
  if (observed?.status === 'running' && !options.force) {
    throw new IsolaError('ESTATE', `cannot remove container "${config.name}": it is running: stop it first or use --force`);
  }
  // deleteContainer kills every process in the cgroup and waits for the init to go.
  await deleteContainer(id, { root: containers.runtimeRoot, force: true }).catch((error: unknown) => {
    if ((error as { code?: string }).code !== 'ENOTFOUND') throw error;
  });
  rmSync(join(containers.runtimeRoot, id), { recursive: true, force: true });
  // The monitor writes the exit file when the init goes: let it finish before the directory goes.
  // It does so within a millisecond or two of the init's end: checked at 1, 2, 4, 8, then every 10 ms (3 s at most).
  if (observed && observed.state.monitorPid !== process.pid) {
    const { monitorPid, monitorStartTime } = observed.state;
    for (let waited = 0, delay = 1; waited < 3000 && isAlive(monitorPid, monitorStartTime); waited += delay, delay = Math.min(delay * 2, 10)) await sleep(delay);
  }
  detachNetwork(containers, id);
  await removeRootfs(images, id);
  containers.delete(id, config.name);
  if (config.autoRemove || options.volumes) removeAnonymousVolumes(containers, config.mounts ?? []);
}

/** The volumes `-v /path` made for this container alone, once no other container uses them. */
function removeAnonymousVolumes(containers: ContainerStore, mounts: readonly MountRecord[]): void {
  const volumes = new VolumeStore(containers.root);
  for (const mount of mounts) {
    if (mount.type !== 'volume' || !mount.anonymous || volumeUsers(containers, mount.name!).length) continue;
    try {
      volumes.remove(mount.name!);
    } catch {
      // already gone
    }
  }
}
