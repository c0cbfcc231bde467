// How a container's network looks from outside: docker inspect's NetworkSettings and HostConfig fields,
// ps's PORTS and NETWORKS columns, and `isola port`. Live values (addresses, the host ports that were
// picked) come from the network records while the container is connected; what was asked for comes
// from the container's own record.
import { Networks, type PortMapping, formatPortMapping } from '@isola/network';
import type { ContainerConfig } from '../containers/store.js';
import { netnsPath } from './detach.js';

/** docker's port keys: "80/tcp". */
function portKey(m: PortMapping): string {
  return `${m.containerPort}/${m.protocol}`;
}

function bindings(ports: readonly PortMapping[], requested: boolean): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const m of ports) {
    (out[portKey(m)] ??= []).push({
      HostIp: requested && m.hostIp === '0.0.0.0' ? '' : m.hostIp,
      HostPort: m.hostPort === 0 ? '' : String(m.hostPort),
    });
  }
  return out;
}

/** The mode recorded at create; containers made before networks existed had none. */
export function networkMode(config: ContainerConfig): string {
  return config.network?.mode ?? 'none';
}

function attachments(root: string, config: ContainerConfig) {
  return config.network && config.network.mode !== 'none' && config.network.mode !== 'host' ? new Networks({ root }).attachments(config.id) : [];
}

/** The published ports as they are now (host ports picked): empty once the container is stopped. */
export function publishedPorts(root: string, config: ContainerConfig): PortMapping[] {
  return attachments(root, config).flatMap((a) => a.endpoint.ports);
}

/** ps's PORTS ("0.0.0.0:8080->80/tcp, ...") and NETWORKS columns. */
export function psNetworkColumns(root: string, config: ContainerConfig): { Ports: string; Networks: string } {
  return { Ports: publishedPorts(root, config).map(formatPortMapping).join(', '), Networks: networkMode(config) };
}

/** docker inspect's NetworkSettings, and the HostConfig fields for the network. */
export function inspectNetwork(root: string, config: ContainerConfig): { NetworkSettings: object; NetworkMode: string; PortBindings: object } {
  const mode = networkMode(config);
  const live = attachments(root, config);
  const first = live[0];
  const prefix = (subnet: string) => Number(subnet.split('/')[1]);
  const networks: Record<string, object> = {};
  for (const { network, endpoint } of live) {
    networks[network.name] = {
      IPAMConfig: null, Links: null, Aliases: endpoint.aliases.length ? endpoint.aliases : null, MacAddress: endpoint.mac,
      NetworkID: network.id, EndpointID: endpoint.endpointId, Gateway: network.gateway, IPAddress: endpoint.ip,
      IPPrefixLen: prefix(network.subnet), IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
      DNSNames: network.isDefault ? null : [endpoint.containerName, ...endpoint.aliases, config.id.slice(0, 12)],
    };
  }
  if (live.length === 0) {
    networks[mode] = {
      IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '',
      IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
    };
  }
  return {
    NetworkMode: mode,
    PortBindings: bindings(config.network?.ports ?? [], true),
    NetworkSettings: {
      Bridge: '', SandboxID: first ? config.id : '', SandboxKey: first ? netnsPath(root, config.id) : '',
      Ports: bindings(live.flatMap((a) => a.endpoint.ports), false),
      Gateway: first?.network.gateway ?? '', IPAddress: first?.endpoint.ip ?? '', IPPrefixLen: first ? prefix(first.network.subnet) : 0,
      MacAddress: first?.endpoint.mac ?? '', IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
      Networks: networks,
    },
  };
}
