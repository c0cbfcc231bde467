// connect: a container's network namespace joins a network, podman/docker style. Under the networks
// lock: pick an address (IPAM) and the host ports, make the bridge if this is its first container, a
// veth pair whose peer moves into the container and becomes ethN with the address and a default route
// via the gateway, publish the ports, record the endpoint, and write the hosts files. A failure at any
// step undoes the steps before it.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import { close } from '@isola/sys';
import { allocateAddress } from '../address/ipam.js';
import { formatIpv4, macFor, parseIpv4, parseSubnet } from '../address/ipv4.js';
import type { NetworkContext } from '../context.js';
import { renderHosts } from '../dns/hosts.js';
import { refreshHostsFiles } from '../dns/write.js';
import { NetworkHost } from '../host/host.js';
import { ensureDefaultNetwork, DEFAULT_NETWORK } from '../networks/create.js';
import { openNetns } from '../netns/netns.js';
import { allocatePorts } from '../ports/allocate.js';
import type { PortMapping } from '../ports/parse.js';
import type { EndpointRecord } from '../store/store.js';
import { ensureBridge, removeBridge } from './bridge.js';

export interface ContainerRef {
  id: string;
  name: string;
  /** More names other containers on user-defined networks resolve to it. */
  aliases?: string[];
  /** Its hostname, first on its own line in its hosts file (docker: the id's first 12 characters). */
  hostname?: string;
}

export interface ConnectOptions {
  /** -p mappings (parsePortMapping); host port 0 picks a free one. */
  ports?: readonly PortMapping[];
  /** Where to write the container's /etc/hosts (kept up to date as others join and leave). */
  hostsPath?: string;
  /** --ip: a fixed address instead of the next free one. */
  ip?: string;
}

export interface Endpoint {
  network: string;
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  /** The interface inside the container ("eth0") and the host end of its veth pair. */
  interface: string;
  hostVeth: string;
  /** The published ports, with the host ports that were picked. */
  ports: PortMapping[];
}

/** Names end up in other containers' hosts files: one token each, nothing that could start a new line. */
const HOST_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;

function checkNames(container: ContainerRef): void {
  if (!/^[0-9a-zA-Z_.-]{1,128}$/.test(container.id)) throw new IsolaError('EINVAL', `invalid container id ${JSON.stringify(container.id)}`);
  for (const [what, name] of [['container name', container.name], ['hostname', container.hostname], ...(container.aliases ?? []).map((a) => ['alias', a])] as Array<[string, string | undefined]>) {
    if (name !== undefined && !HOST_NAME.test(name)) throw new IsolaError('EINVAL', `invalid ${what} ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
}

export function connect(ctx: NetworkContext, networkRef: string, container: ContainerRef, netnsPath: string, options: ConnectOptions = {}): Endpoint {
  checkNames(container);
  if (networkRef === DEFAULT_NETWORK) ensureDefaultNetwork(ctx);
  return ctx.store.locked(() => {
    const network = ctx.store.get(networkRef);
    if (network.endpoints[container.id]) throw new IsolaError('EEXIST', `container ${container.name} is already connected to network ${network.name}`);
    if ((options.ports?.length ?? 0) > 0 && !ctx.firewall.available) {
      throw new IsolaError('ENONFT', 'publishing ports needs nft (the Debian package nftables), which is not installed');
    }
    const all = ctx.store.list();
    const ports = allocatePorts(ctx.host, all, options.ports ?? []);
    const subnet = parseSubnet(network.subnet);
    const taken = Object.values(network.endpoints).map((e) => parseIpv4(e.ip));
    const address = allocateAddress(subnet, parseIpv4(network.gateway), taken, options.ip, `network ${network.name}`);
    const ip = formatIpv4(address);
    const mac = macFor(address);
    const suffix = randomBytes(4).toString('hex').slice(0, 7);
    const hostVeth = `veth${suffix}`;
    const endpoint: EndpointRecord = {
      containerId: container.id,
      containerName: container.name,
      aliases: container.aliases ?? [],
      ...(container.hostname ? { hostname: container.hostname } : {}),
      endpointId: randomBytes(32).toString('hex'),
      ip,
      mac,
      hostVeth,
      netns: netnsPath,
      ...(options.hostsPath ? { hostsPath: options.hostsPath } : {}),
      ports,
    };

    const undo: Array<() => void> = [];
    try {
      const netnsFd = openNetns(netnsPath);
      let madeBridge: boolean;
      try {
        madeBridge = ensureBridge(ctx, network);
        if (madeBridge && Object.keys(network.endpoints).length === 0) undo.push(() => removeBridge(ctx, network));
        const peer = `vtmp${suffix}`;
        ctx.host.route((rt) => {
          rt.createVeth(hostVeth, peer);
          undo.push(() => ctx.host.route((r) => r.link(hostVeth) && r.deleteLink(hostVeth)));
          rt.setMaster(hostVeth, network.bridge);
          rt.setUp(hostVeth);
          rt.moveToNetns(peer, netnsFd);
        });
        endpoint.interface = NetworkHost.routeIn(netnsPath, (rt) => {
          const links = rt.links();
          let n = 0;
          while (links.some((l) => l.name === `eth${n}`)) n++;
          const name = `eth${n}`;
          rt.rename(peer, name);
          rt.setMac(name, mac);
          rt.addAddress(name, ip, subnet.prefix);
          rt.setUp(name);
          rt.setUp('lo');
          if (!rt.routes().some((r) => r.prefix === 0)) rt.addRoute({ gateway: network.gateway, device: name });
          return name;
        });
      } finally {
        close(netnsFd);
      }
      if (ctx.firewall.available && (madeBridge || ports.length > 0)) {
        undo.push(() => ctx.firewall.leave(network.id, container.id, madeBridge));
        ctx.firewall.join({ ...(madeBridge ? { network } : {}), ports: { networkId: network.id, containerId: container.id, containerIp: ip, ports } });
      }
      network.endpoints[container.id] = endpoint;
      ctx.store.save(network);
      undo.push(() => {
        delete network.endpoints[container.id];
        ctx.store.save(network);
      });
      const networks = all.map((n) => (n.name === network.name ? network : n));
      if (options.hostsPath) writeFileSync(options.hostsPath, renderHosts(container.id, networks));
      refreshHostsFiles(network, networks);
    } catch (error) {
      for (const step of undo.reverse()) {
        try {
          step();
        } catch {
          // keep undoing: the first error is the one to report
        }
      }
      throw new IsolaError((error as IsolaError).code ?? 'ECONNECT', `connect container ${container.name} to network ${network.name}`, { cause: error });
    }
    return {
      network: network.name,
      ip,
      prefix: subnet.prefix,
      gateway: network.gateway,
      mac,
      interface: endpoint.interface ?? 'eth0',
      hostVeth,
      ports,
    };
  });
}
