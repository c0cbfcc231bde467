// Where networks without --subnet get theirs: docker's default pools (172.17-31.0.0/16, then
// 192.168.0.0/16 in /20s), skipping every subnet that overlaps a route the host already has or
// another isola network, so a new bridge never hides a network the host can reach.
import { IsolaError } from '@isola/errors';
import { overlaps, type Subnet } from './ipv4.js';

function* candidates(): Generator<Subnet> {
  for (let b = 17; b <= 31; b++) yield { network: ((172 << 24) | (b << 16)) >>> 0, prefix: 16 };
  for (let c = 0; c < 256; c += 16) yield { network: ((192 << 24) | (168 << 16) | (c << 8)) >>> 0, prefix: 20 };
}

export function pickSubnet(taken: readonly Subnet[]): Subnet {
  for (const subnet of candidates()) if (!taken.some((t) => t.prefix > 0 && overlaps(subnet, t))) return subnet;
  throw new IsolaError('EADDRNOTAVAIL', 'all of the default address pools (172.17.0.0/16-172.31.0.0/16, 192.168.0.0/16) overlap networks that exist already: give --subnet');
}
