// `-p [ip:][hostPort:]containerPort[/tcp|/udp]`, docker's syntax, parsed with errors that quote the flag.
// A missing host port (`-p 80`, `-p 127.0.0.1::80`) means "pick a free one" (hostPort 0 here).
import { IsolaError } from '@isola/errors';
import { isIpv4 } from '../address/ipv4.js';

export type Protocol = 'tcp' | 'udp';

export interface PortMapping {
  /** "0.0.0.0" publishes on every address of the host. */
  hostIp: string;
  /** 0 until a free port has been picked for it. */
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

function bad(spec: string, reason: string): IsolaError {
  return new IsolaError('EINVAL', `invalid port mapping ${JSON.stringify(spec)}: ${reason}`);
}

function port(spec: string, text: string, which: string): number {
  if (/^\d+-\d+$/.test(text)) throw bad(spec, `port ranges (${which} port ${JSON.stringify(text)}) are not supported`);
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw bad(spec, `${which} port ${JSON.stringify(text)} is not a number between 1 and 65535`);
  return n;
}

export function parsePortMapping(spec: string): PortMapping {
  if (spec.trim() === '') throw bad(spec, 'it is empty');
  const slash = spec.lastIndexOf('/');
  const protocol = slash < 0 ? 'tcp' : spec.slice(slash + 1).toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') throw bad(spec, `protocol ${JSON.stringify(protocol)} is not tcp or udp`);
  const rest = slash < 0 ? spec : spec.slice(0, slash);
  if (rest.startsWith('[')) throw bad(spec, 'IPv6 host addresses are not supported');
  const parts = rest.split(':');
  if (parts.length > 3) throw bad(spec, 'expected [ip:][hostPort:]containerPort[/tcp|/udp]');
  const containerPort = port(spec, parts[parts.length - 1]!, 'container');
  const hostText = parts.length >= 2 ? parts[parts.length - 2]! : '';
  const hostPort = hostText === '' ? 0 : port(spec, hostText, 'host');
  const hostIp = parts.length === 3 ? parts[0]! : '0.0.0.0';
  if (!isIpv4(hostIp)) throw bad(spec, `host IP ${JSON.stringify(hostIp)} is not an IPv4 address`);
  return { hostIp, hostPort, containerPort, protocol };
}

/** docker's display form: "0.0.0.0:8080->80/tcp". */
export function formatPortMapping(m: PortMapping): string {
  return `${m.hostIp}:${m.hostPort}->${m.containerPort}/${m.protocol}`;
}
