// `network ls` and `network inspect`: the records, and docker's JSON shape for them.
import type { NetworkContext } from '../context.js';
import type { NetworkRecord } from '../store/store.js';
import { formatPortMapping } from '../ports/parse.js';
import { ensureDefaultNetwork } from './create.js';

export function listNetworks(ctx: NetworkContext): NetworkRecord[] {
  ensureDefaultNetwork(ctx);
  return ctx.store.list();
}

export interface NetworkSummary {
  id: string;
  name: string;
  driver: string;
  scope: 'local';
  subnet: string;
  containers: number;
}

export function summarize(network: NetworkRecord): NetworkSummary {
  return { id: network.id.slice(0, 12), name: network.name, driver: network.driver, scope: 'local', subnet: network.subnet, containers: Object.keys(network.endpoints).length };
}

/** `docker network inspect` for one network. */
export function inspectNetwork(ctx: NetworkContext, ref: string): Record<string, unknown> {
  if (ref === 'bridge') ensureDefaultNetwork(ctx);
  const n = ctx.store.get(ref);
  const prefix = n.subnet.split('/')[1];
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigOnly: false,
    Containers: Object.fromEntries(
      Object.values(n.endpoints).map((e) => [
        e.containerId,
        { Name: e.containerName, EndpointID: e.endpointId, MacAddress: e.mac, IPv4Address: `${e.ip}/${prefix}`, IPv6Address: '', Ports: e.ports.map(formatPortMapping) },
      ]),
    ),
    Options: { 'com.docker.network.bridge.name': n.bridge, ...(n.isDefault ? { 'com.docker.network.bridge.default_bridge': 'true' } : {}) },
    Labels: n.labels,
  };
}
