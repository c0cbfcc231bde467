// Endpoints whose container is gone: its init died and nobody looked since (the first look releases the
// network: containers/observe.ts), or its record went without a cleanup (a crash mid-remove). Swept
// before a container connects and before a network is removed, so that they hold no port or address.
import { existsSync } from 'node:fs';
import { type Networks, removeNetns } from '@isola/network';
import { observe } from '../containers/observe.js';
import type { ContainerStore } from '../containers/store.js';
import { netnsPath } from './detach.js';

/**
 * Releases what containers that are gone still hold (their init died and nobody looked since, or their
 * record went without a cleanup): their addresses and published ports become free for `except`.
 */
export async function releaseStale(containers: ContainerStore, nets: Networks, except?: string): Promise<void> {
  const ids = new Set(nets.ctx.store.list().flatMap((n) => Object.keys(n.endpoints)));
  for (const id of ids) {
    if (id === except) continue;
    // The directory exists from the name's claim on: a container being created is not stale.
    if (!existsSync(containers.path(id))) {
      nets.disconnectAll(id);
      removeNetns(netnsPath(containers.root, id));
      continue;
    }
    // Folding in an exit releases the network (observe.ts); a live or just-created container keeps it.
    await observe(containers, id, { settleMs: 0 }).catch(() => {});
  }
}
