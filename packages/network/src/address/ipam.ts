// IP address management for one network, as pure functions of what is already taken: the gateway is
// the first host address, containers get the lowest free one after it. The store keeps what is taken
// (the endpoints of the network record), and callers hold its lock while they allocate.
import { IsolaError } from '@isola/errors';
import { broadcast, contains, formatIpv4, formatSubnet, parseIpv4, type Subnet } from './ipv4.js';

export function defaultGateway(subnet: Subnet): number {
  return subnet.network + 1;
}

/** The lowest free host address of `subnet`, or the `requested` one if it is free. */
export function allocateAddress(subnet: Subnet, gateway: number, taken: Iterable<number>, requested?: string, network = 'the network'): number {
  const used = new Set(taken);
  used.add(gateway);
  const last = broadcast(subnet);
  if (requested !== undefined) {
    const address = parseIpv4(requested);
    if (!contains(subnet, address) || address === subnet.network || address === last) {
      throw new IsolaError('EINVAL', `IP address ${requested} is not a host address of ${network}'s subnet ${formatSubnet(subnet)}`);
    }
    if (used.has(address)) throw new IsolaError('EADDRINUSE', `IP address ${requested} is already in use on ${network}`);
    return address;
  }
  for (let address = subnet.network + 1; address < last; address++) if (!used.has(address)) return address;
  throw new IsolaError('EADDRNOTAVAIL', `no free IP address left on ${network} (subnet ${formatSubnet(subnet)}, gateway ${formatIpv4(gateway)})`);
}
