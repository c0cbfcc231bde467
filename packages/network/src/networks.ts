// The typed facade the engine and the CLI use: one object per isola root (and host namespace), one
// method per operation, each implemented in its own file.
import { type NetworkContext, networkContext, type NetworkOptions } from './context.js';
import { renderResolvConf } from './dns/hosts.js';
import { readHostResolvConf } from './dns/write.js';
import { connect, type ConnectOptions, type ContainerRef, type Endpoint } from './endpoints/connect.js';
import { disconnect, disconnectAll } from './endpoints/disconnect.js';
import { createNetwork, type CreateNetworkOptions, ensureDefaultNetwork } from './networks/create.js';
import { inspectNetwork, listNetworks } from './networks/list.js';
import { removeNetwork } from './networks/remove.js';
import type { EndpointRecord, NetworkRecord } from './store/store.js';

export class Networks {
  readonly ctx: NetworkContext;

  constructor(options: NetworkOptions) {
    this.ctx = networkContext(options);
  }

  create(options: CreateNetworkOptions): NetworkRecord {
    return createNetwork(this.ctx, options);
  }

  /** The default network `bridge` (made on first use) and every user-defined one. */
  list(): NetworkRecord[] {
    return listNetworks(this.ctx);
  }

  get(ref: string): NetworkRecord {
    if (ref === 'bridge') return ensureDefaultNetwork(this.ctx);
    return this.ctx.store.get(ref);
  }

  /** docker's `network inspect` JSON for one network. */
  inspect(ref: string): Record<string, unknown> {
    return inspectNetwork(this.ctx, ref);
  }

  remove(ref: string): void {
    removeNetwork(this.ctx, ref);
  }

  connect(network: string, container: ContainerRef, netnsPath: string, options?: ConnectOptions): Endpoint {
    return connect(this.ctx, network, container, netnsPath, options);
  }

  disconnect(network: string, containerId: string): void {
    disconnect(this.ctx, network, containerId);
  }

  disconnectAll(containerId: string): string[] {
    return disconnectAll(this.ctx, containerId);
  }

  /** Where a container is connected (for `inspect`'s NetworkSettings and `isola port`). */
  attachments(containerId: string): Array<{ network: NetworkRecord; endpoint: EndpointRecord }> {
    return this.ctx.store.list().flatMap((network) => {
      const endpoint = network.endpoints[containerId];
      return endpoint ? [{ network, endpoint }] : [];
    });
  }

  /** The container's /etc/resolv.conf: the host's, without 127.x nameservers. */
  resolvConf(hostPath = '/etc/resolv.conf'): string {
    return renderResolvConf(readHostResolvConf(hostPath));
  }
}
