// Host ports for -p: each must be free both among isola's published ports (DNAT rules bind nothing,
// so the records are the only witness) and on the host, checked by binding it, as docker does.
// `-p 80` gets a free port from docker's ephemeral range.
import { IsolaError } from '@isola/errors';
import type { NetworkHost } from '../host/host.js';
import type { NetworkRecord } from '../store/store.js';
import type { PortMapping } from './parse.js';

const EPHEMERAL_FIRST = 49153;
const EPHEMERAL_LAST = 60999;

const clash = (a: PortMapping, b: PortMapping): boolean =>
  a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0');

function allocated(p: PortMapping): IsolaError {
  return new IsolaError('EPORTINUSE', `Bind for ${p.hostIp}:${p.hostPort} failed: port is already allocated`, { details: { port: p } });
}

export function allocatePorts(host: NetworkHost, networks: readonly NetworkRecord[], requested: readonly PortMapping[]): PortMapping[] {
  const taken: PortMapping[] = networks.flatMap((n) => Object.values(n.endpoints).flatMap((e) => e.ports));
  const free = (p: PortMapping): boolean => {
    if (taken.some((t) => clash(t, p))) return false;
    try {
      return host.canBind(p.hostIp, p.hostPort, p.protocol);
    } catch (error) {
      throw new IsolaError('EADDRNOTAVAIL', `cannot publish on ${p.hostIp}:${p.hostPort}/${p.protocol}: ${(error as Error).message}`, { cause: error });
    }
  };
  const result: PortMapping[] = [];
  for (const want of requested) {
    let p = want;
    if (p.hostPort === 0) {
      let port = EPHEMERAL_FIRST;
      while (port <= EPHEMERAL_LAST && !free({ ...want, hostPort: port })) port++;
      if (port > EPHEMERAL_LAST) throw new IsolaError('EPORTINUSE', `no free host port left for ${want.containerPort}/${want.protocol} in ${EPHEMERAL_FIRST}-${EPHEMERAL_LAST}`);
      p = { ...want, hostPort: port };
    } else if (!free(p)) {
      throw allocated(p);
    }
    taken.push(p);
    result.push(p);
  }
  return result;
}
