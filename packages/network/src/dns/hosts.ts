// /etc/hosts and /etc/resolv.conf for a container, as text (no I/O): docker's localhost lines, the
// container's own addresses, and on user-defined networks every other container there by name. On the
// default bridge the container's own line names only its hostname, as docker's does: names and aliases
// mean something only on user-defined networks.
import type { EndpointRecord, NetworkRecord } from '../store/store.js';

const LOCALHOST = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

function names(endpoint: EndpointRecord, own: boolean): string[] {
  const list = own && endpoint.hostname ? [endpoint.hostname] : [];
  list.push(endpoint.containerName, ...endpoint.aliases);
  if (!own) list.push(endpoint.containerId.slice(0, 12));
  return [...new Set(list.filter((n) => n !== ''))];
}

/** The hosts file of container `containerId`, from every network it is on. */
export function renderHosts(containerId: string, networks: readonly NetworkRecord[]): string {
  const lines = [...LOCALHOST];
  const peers: string[] = [];
  for (const network of networks) {
    const self = network.endpoints[containerId];
    if (!self) continue;
    if (network.isDefault) {
      lines.push(`${self.ip}\t${self.hostname || self.containerId.slice(0, 12)}`);
      continue;
    }
    lines.push(`${self.ip}\t${names(self, true).join(' ')}`);
    for (const peer of Object.values(network.endpoints)) {
      if (peer.containerId !== containerId) peers.push(`${peer.ip}\t${names(peer, false).join(' ')}`);
    }
  }
  return `${[...lines, ...peers].join('\n')}\n`;
}

/**
 * The container's resolv.conf from the host's: nameservers on 127.0.0.0/8 (a local resolver such as
 * systemd-resolved) are unreachable from the container, so they go, as docker drops them; search and
 * options lines stay. With no nameserver left the file has none (docker would add public resolvers:
 * isola does not send a container's queries to a third party unasked).
 */
export function renderResolvConf(hostResolvConf: string): string {
  const kept = hostResolvConf
    .split('\n')
    .filter((line) => !/^\s*nameserver\s+(127\.|::1\b)/.test(line))
    .join('\n')
    .trimEnd();
  return kept === '' ? '' : `${kept}\n`;
}
