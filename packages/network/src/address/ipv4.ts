// IPv4 addresses and subnets as numbers, with the parse errors a user can act on.
import { IsolaError } from '@isola/errors';

export interface Subnet {
  /** The network address, host bits zero. */
  network: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string, what = 'IP address'): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) throw new IsolaError('EINVAL', `invalid ${what} ${JSON.stringify(text)}: expected an IPv4 address like 10.0.0.1`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => OCTET.test(p));
}

const mask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** "10.1.0.0/16" → a subnet; host bits must be zero (docker refuses 10.1.0.5/16 too). */
export function parseSubnet(text: string): Subnet {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) throw new IsolaError('EINVAL', `invalid subnet ${JSON.stringify(text)}: expected CIDR notation like 10.1.0.0/16`);
  const address = parseIpv4(match[1]!, 'subnet address');
  const prefix = Number(match[2]);
  if (prefix < 8 || prefix > 30) throw new IsolaError('EINVAL', `invalid subnet ${JSON.stringify(text)}: the prefix length must be between 8 and 30`);
  const network = (address & mask(prefix)) >>> 0;
  if (network !== address) throw new IsolaError('EINVAL', `invalid subnet ${JSON.stringify(text)}: host bits are set (did you mean ${formatIpv4(network)}/${prefix}?)`);
  return { network, prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatIpv4(subnet.network)}/${subnet.prefix}`;
}

export function broadcast(subnet: Subnet): number {
  return (subnet.network | ~mask(subnet.prefix)) >>> 0;
}

export function contains(subnet: Subnet, address: number): boolean {
  return ((address & mask(subnet.prefix)) >>> 0) === subnet.network;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return ((a.network & mask(prefix)) >>> 0) === ((b.network & mask(prefix)) >>> 0);
}

/** docker's MAC for an address: 02:42 and the four address bytes. */
export function macFor(address: number): string {
  return ['02', '42', ...[address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
