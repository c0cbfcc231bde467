// `network create NAME [--subnet CIDR] [--gateway IP]`, and the default network `bridge` (device
// isola0), made the first time something needs it. Creating a network only writes its record: the
// bridge appears when the first container connects (endpoints/connect.ts).
import { randomBytes } from 'node:crypto';
import { IsolaError } from '@isola/errors';
import { defaultGateway } from '../address/ipam.js';
import { broadcast, contains, formatIpv4, formatSubnet, overlaps, parseIpv4, parseSubnet, type Subnet } from '../address/ipv4.js';
import { pickSubnet } from '../address/subnet-pool.js';
import type { NetworkContext } from '../context.js';
import { checkNetworkName, type NetworkRecord } from '../store/store.js';

export const DEFAULT_NETWORK = 'bridge';
export const DEFAULT_BRIDGE = 'isola0';
/** Names `--network` gives other meanings to. */
const RESERVED = new Set(['bridge', 'host', 'none', 'default', 'container']);

export interface CreateNetworkOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  labels?: Record<string, string>;
}

/** Subnets in use: other isola networks' and the host's routes (the default route, and isola's own bridges, aside). */
function takenSubnets(ctx: NetworkContext, networks: readonly NetworkRecord[]): Subnet[] {
  const bridges = new Set(networks.map((n) => n.bridge));
  const routes = ctx.host.route((rt) => {
    const links = new Map(rt.links().map((l) => [l.index, l.name]));
    return rt.routes().filter((r) => r.prefix > 0 && !bridges.has(links.get(r.oif ?? -1) ?? ''));
  });
  return [...networks.map((n) => parseSubnet(n.subnet)), ...routes.map((r) => ({ network: parseIpv4(r.destination), prefix: r.prefix }))];
}

function record(name: string, bridge: string, subnet: Subnet, gateway: number, isDefault: boolean, labels: Record<string, string>): NetworkRecord {
  return {
    name,
    id: randomBytes(32).toString('hex'),
    created: new Date().toISOString(),
    driver: 'bridge',
    bridge,
    subnet: formatSubnet(subnet),
    gateway: formatIpv4(gateway),
    isDefault,
    labels,
    endpoints: {},
  };
}

export function createNetwork(ctx: NetworkContext, options: CreateNetworkOptions): NetworkRecord {
  checkNetworkName(options.name);
  if (RESERVED.has(options.name)) throw new IsolaError('EEXIST', `network name ${JSON.stringify(options.name)} is reserved (pre-defined network)`);
  if (options.gateway !== undefined && options.subnet === undefined) throw new IsolaError('EINVAL', '--gateway needs --subnet');
  return ctx.store.locked(() => {
    if (ctx.store.find(options.name)) throw new IsolaError('EEXIST', `network with name ${options.name} already exists`);
    const networks = ctx.store.list();
    let subnet: Subnet;
    if (options.subnet !== undefined) {
      subnet = parseSubnet(options.subnet);
      const clash = networks.find((n) => overlaps(parseSubnet(n.subnet), subnet));
      if (clash) throw new IsolaError('EOVERLAP', `subnet ${options.subnet} overlaps network ${JSON.stringify(clash.name)} (${clash.subnet})`);
    } else {
      subnet = pickSubnet(takenSubnets(ctx, networks));
    }
    let gateway = defaultGateway(subnet);
    if (options.gateway !== undefined) {
      gateway = parseIpv4(options.gateway, 'gateway');
      if (!contains(subnet, gateway) || gateway === subnet.network || gateway === broadcast(subnet)) {
        throw new IsolaError('EINVAL', `gateway ${options.gateway} is not a host address of subnet ${formatSubnet(subnet)}`);
      }
    }
    const created = record(options.name, '', subnet, gateway, false, options.labels ?? {});
    created.bridge = `br-${created.id.slice(0, 12)}`;
    ctx.store.save(created);
    return created;
  });
}

/** The default network, created on first use with a /16 that no host route or isola network covers. */
export function ensureDefaultNetwork(ctx: NetworkContext): NetworkRecord {
  const existing = ctx.store.find(DEFAULT_NETWORK);
  if (existing) return existing;
  return ctx.store.locked(() => {
    const again = ctx.store.find(DEFAULT_NETWORK);
    if (again) return again;
    const subnet = pickSubnet(takenSubnets(ctx, ctx.store.list()));
    const created = record(DEFAULT_NETWORK, DEFAULT_BRIDGE, subnet, defaultGateway(subnet), true, {});
    ctx.store.save(created);
    return created;
  });
}
