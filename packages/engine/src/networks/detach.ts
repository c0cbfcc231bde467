// Undoing attach.ts: the container leaves every network (veth, address, port rules, peers' hosts files,
// the bridge with its last container) and its namespace is unmounted and unlinked. Runs when a
// container is removed (rm, --rm in-process and the monitor's `remove`, a failed create) and when its
// exit is first seen (containers/observe.ts), as docker releases a stopped container's network. A
// container whose namespace file is gone has nothing left to undo, which keeps none/host containers free.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Networks, removeNetns } from '@isola/network';
import type { ContainerStore } from '../containers/store.js';

export function netnsPath(root: string, id: string): string {
  return join(root, 'netns', id);
}

/** Disconnects the container from its networks and removes its namespace; a no-op when it has none. */
export function detachNetwork(containers: ContainerStore, id: string, nets?: Networks): void {
  const path = netnsPath(containers.root, id);
  if (!existsSync(path)) return;
  (nets ?? new Networks({ root: containers.root })).disconnectAll(id);
  removeNetns(path);
}
