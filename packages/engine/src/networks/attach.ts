// A container's network, made while the container is created (before its init exists), as docker does
// for its sandbox: for bridge and user-defined networks a persistent network namespace under the isola
// root, connected through @isola/network (veth, address, route, published ports), which the OCI spec
// then joins by path. Every mode gets docker's three files, bind-mounted over the image's own so that
// a read-only rootfs still has them: /etc/hosts (kept up to date as peers come and go), /etc/resolv.conf
// and /etc/hostname. detach.ts undoes all of it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mount, Spec } from '@isola/container';
import { Networks, createNetns, renderHosts, renderResolvConf } from '@isola/network';
import type { ContainerConfig, ContainerStore } from '../containers/store.js';
import { netnsPath } from './detach.js';
import { releaseStale } from './stale.js';
import { connects, type NetworkConfig } from './mode.js';

export interface AttachedNetwork {
  /** The namespace the container joins (bridge and user networks); none: a new one; host: the host's. */
  netns?: string;
  mode: string;
  mounts: Mount[];
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Connects the container as `network` asks; writes its hosts, resolv.conf and hostname files. */
export async function attachNetwork(containers: ContainerStore, config: ContainerConfig, network: NetworkConfig): Promise<AttachedNetwork> {
  const dir = containers.path(config.id);
  const files = { resolv: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts') };
  const mounts: Mount[] = [
    { destination: '/etc/resolv.conf', type: 'bind', source: files.resolv, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: files.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: files.hosts, options: ['rbind', 'rprivate'] },
  ];
  writeFileSync(files.hostname, `${config.hostname}\n`);
  const hostResolv = readOr('/etc/resolv.conf', '');
  if (network.mode === 'host') {
    // The host's own names and resolvers, copied (docker does the same).
    writeFileSync(files.hosts, readOr('/etc/hosts', renderHosts(config.id, [])));
    writeFileSync(files.resolv, hostResolv);
    return { mode: 'host', mounts };
  }
  if (!connects(network.mode)) {
    writeFileSync(files.hosts, renderHosts(config.id, []));
    writeFileSync(files.resolv, renderResolvConf(hostResolv));
    return { mode: network.mode, mounts };
  }
  const nets = new Networks({ root: containers.root });
  await releaseStale(containers, nets, config.id);
  const netns = createNetns(netnsPath(containers.root, config.id));
  nets.connect(network.mode, { id: config.id, name: config.name, hostname: config.hostname, aliases: network.aliases }, netns, {
    ports: network.ports,
    hostsPath: files.hosts,
  });
  writeFileSync(files.resolv, renderResolvConf(hostResolv));
  return { netns, mode: network.mode, mounts };
}

/** The spec joins the namespace (or the host's, for host), and mounts the files under the user's own -v. */
export function applyNetwork(spec: Spec, attached: AttachedNetwork): void {
  const namespaces = spec.linux!.namespaces ?? [];
  if (attached.mode === 'host') spec.linux!.namespaces = namespaces.filter((ns) => ns.type !== 'network');
  else if (attached.netns) spec.linux!.namespaces = namespaces.map((ns) => (ns.type === 'network' ? { type: 'network', path: attached.netns } : ns));
  spec.mounts = [...(spec.mounts ?? []), ...attached.mounts];
}
