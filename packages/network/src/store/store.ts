// Network definitions and their endpoints, one JSON file per network:
//
//   <root>/networks/<name>.json    the network (subnet, gateway, bridge) and every container attached to it
//   <root>/networks/.lock          held while anything here changes (store/lock.ts)
//
// The endpoints are IPAM's record of what is taken, so an allocation and its record are one write.
// Files are replaced atomically (write + rename): the hosts files the containers see are elsewhere.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsolaError } from '@isola/errors';
import type { PortMapping } from '../ports/parse.js';
import { withLock } from './lock.js';

export interface EndpointRecord {
  /** The container's id and name, and the extra names other containers reach it by. */
  containerId: string;
  containerName: string;
  aliases: string[];
  hostname?: string;
  endpointId: string;
  ip: string;
  mac: string;
  /** The host end of the veth pair. */
  hostVeth: string;
  /** The interface inside the container ("eth0"). */
  interface?: string;
  netns: string;
  /** The container's /etc/hosts as a host path (bind-mounted, so rewritten in place). */
  hostsPath?: string;
  ports: PortMapping[];
}

export interface NetworkRecord {
  name: string;
  id: string;
  created: string;
  driver: 'bridge';
  /** The bridge device on the host. */
  bridge: string;
  subnet: string;
  gateway: string;
  /** The default network: containers on it do not resolve each other by name (docker's rule). */
  isDefault: boolean;
  labels: Record<string, string>;
  endpoints: Record<string, EndpointRecord>;
}

export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function checkNetworkName(name: string): void {
  if (!NETWORK_NAME.test(name) || name.length > 128) {
    throw new IsolaError('EINVAL', `invalid network name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
}

export class NetworkStore {
  readonly dir: string;

  constructor(readonly root: string) {
    this.dir = join(root, 'networks');
  }

  /** Runs `fn` holding the networks lock: every read-modify-write of records goes through here. */
  locked<T>(fn: () => T): T {
    return withLock(join(this.dir, '.lock'), fn);
  }

  private path(name: string): string {
    checkNetworkName(name);
    return join(this.dir, `${name}.json`);
  }

  find(name: string): NetworkRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as NetworkRecord;
    } catch (error) {
      throw new IsolaError('ECORRUPT', `network record ${JSON.stringify(this.path(name))} is not valid JSON`, { cause: error });
    }
  }

  /** A network by name, or by a unique prefix of its id (as docker accepts). */
  get(ref: string): NetworkRecord {
    const byName = NETWORK_NAME.test(ref) ? this.find(ref) : undefined;
    if (byName) return byName;
    const byId = ref.length >= 3 ? this.list().filter((n) => n.id.startsWith(ref)) : [];
    if (byId.length === 1) return byId[0]!;
    throw new IsolaError('ENONETWORK', `network ${JSON.stringify(ref)} not found`);
  }

  list(): NetworkRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((n) => this.find(n.slice(0, -5)))
      .filter((n): n is NetworkRecord => n !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  save(record: NetworkRecord): void {
    mkdirSync(this.dir, { recursive: true });
    const path = this.path(record.name);
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(temp, path);
  }

  delete(name: string): void {
    rmSync(this.path(name), { force: true });
  }
}
