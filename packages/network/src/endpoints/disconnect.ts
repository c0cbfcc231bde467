// disconnect: the reverse of connect. Deleting the host end of the veth pair deletes the container's
// end with its address and routes; the port rules go, the address returns to the pool, the other
// containers' hosts files forget the name, and the last container out takes the bridge with it.
import { IsolaError } from '@isola/errors';
import type { NetworkContext } from '../context.js';
import { refreshHostsFiles } from '../dns/write.js';
import { removeBridge } from './bridge.js';

export function disconnect(ctx: NetworkContext, networkRef: string, containerId: string): void {
  ctx.store.locked(() => {
    const network = ctx.store.get(networkRef);
    const endpoint = network.endpoints[containerId];
    if (!endpoint) throw new IsolaError('ENOTCONNECTED', `container ${containerId} is not connected to network ${network.name}`);
    const lastOut = Object.keys(network.endpoints).length === 1;
    if (ctx.firewall.available && (lastOut || endpoint.ports.length > 0)) ctx.firewall.leave(network.id, containerId, lastOut);
    // Gone already when the container's namespace was destroyed first: that is fine.
    ctx.host.route((rt) => {
      if (rt.link(endpoint.hostVeth)) rt.deleteLink(endpoint.hostVeth);
    });
    delete network.endpoints[containerId];
    ctx.store.save(network);
    if (lastOut) removeBridge(ctx, network, false);
    refreshHostsFiles(network, ctx.store.list());
  });
}

/** Disconnects a container from every network it is on (what removing a container does); returns their names. */
export function disconnectAll(ctx: NetworkContext, containerId: string): string[] {
  return ctx.store.locked(() => {
    const names = ctx.store.list().filter((n) => n.endpoints[containerId]).map((n) => n.name);
    for (const name of names) disconnect(ctx, name, containerId);
    return names;
  });
}
