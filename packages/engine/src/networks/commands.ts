// What the CLI's `network` commands and `isola port` call: each takes the names the user typed.
import { createHash } from 'node:crypto';
import { IsolaError } from '@isola/errors';
import { defaultStoreRoot } from '@isola/image';
import { Networks, type NetworkRecord, type PortMapping } from '@isola/network';
import { ContainerStore } from '../containers/store.js';
import { releaseStale } from './stale.js';
import { publishedPorts } from './settings.js';

function networks(root?: string): { nets: Networks; containers: ContainerStore } {
  const dir = root ?? defaultStoreRoot();
  return { nets: new Networks({ root: dir }), containers: new ContainerStore(dir) };
}

export function createNetwork(options: { name: string; subnet?: string; gateway?: string; labels?: Record<string, string>; root?: string }): NetworkRecord {
  return networks(options.root).nets.create(options);
}

/** docker's pre-defined networks besides bridge: modes with no record, listed and inspected all the same. */
const PSEUDO: Record<string, { id: string; driver: string }> = {
  host: { id: createHash('sha256').update('isola network host').digest('hex'), driver: 'host' },
  none: { id: createHash('sha256').update('isola network none').digest('hex'), driver: 'null' },
};

export interface NetworkRow {
  id: string;
  name: string;
  driver: string;
  created: string;
  labels: Record<string, string>;
}

/** `network ls`: the default network, the user-defined ones and docker's host and none, by name. */
export function listNetworks(options: { root?: string } = {}): NetworkRow[] {
  const records = networks(options.root).nets.list().map(({ id, name, driver, created, labels }) => ({ id, name, driver, created, labels }));
  const pseudo = Object.entries(PSEUDO).map(([name, p]) => ({ id: p.id, name, driver: p.driver, created: '', labels: {} }));
  return [...records, ...pseudo].sort((a, b) => a.name.localeCompare(b.name));
}

export function inspectNetworks(refs: readonly string[], options: { root?: string } = {}): Array<Record<string, unknown>> {
  const { nets } = networks(options.root);
  return refs.map((ref) => {
    const pseudo = PSEUDO[ref];
    if (!pseudo) return nets.inspect(ref);
    return {
      Name: ref, Id: pseudo.id, Created: '0001-01-01T00:00:00Z', Scope: 'local', Driver: pseudo.driver, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false, ConfigOnly: false,
      Containers: {}, Options: {}, Labels: {},
    };
  });
}

/**
 * Removes each network (refused while a container is on it). Goes on past a failure, as docker does:
 * returns the names removed, and the error to report afterwards (the first, or all of them).
 */
export async function removeNetworks(refs: readonly string[], options: { root?: string } = {}): Promise<{ removed: string[]; error?: Error }> {
  const { nets, containers } = networks(options.root);
  // Containers that exited without anyone looking still hold their endpoints: release them first.
  await releaseStale(containers, nets);
  const removed: string[] = [];
  const failures: Error[] = [];
  for (const ref of refs) {
    try {
      nets.remove(ref);
      removed.push(ref);
    } catch (error) {
      failures.push(error as Error);
    }
  }
  if (failures.length <= 1) return { removed, ...(failures[0] ? { error: failures[0] } : {}) };
  return { removed, error: new IsolaError('EMULTIPLE', failures.map((f) => f.message).join('; ')) };
}

/** `isola port CONTAINER`: the container's published ports, with the host ports that were picked. */
export function containerPorts(ref: string, options: { root?: string } = {}): { name: string; ports: PortMapping[] } {
  const { containers } = networks(options.root);
  const config = containers.config(containers.resolve(ref));
  return { name: config.name, ports: publishedPorts(containers.root, config) };
}
