// `--network`, `-p/--publish`, `-P` and `--network-alias` as docker reads them, checked before anything
// of the container exists: a bad value or an unknown network leaves nothing behind.
import { IsolaError } from '@isola/errors';
import { Networks, type PortMapping, parsePortMapping } from '@isola/network';

export interface NetworkFlags {
  /** `bridge` (the default, as docker's), `none` (loopback only), `host`, or a user-defined network's name. */
  network?: string;
  /** -p [ip:][hostPort:]containerPort[/tcp|udp], repeatable. */
  publish?: string[];
  /** -P: every port the image exposes, each on a free host port. */
  publishAll?: boolean;
  /** --network-alias: more names peers on a user-defined network resolve to this container. */
  networkAlias?: string[];
}

/** What the container record keeps of the flags (docker's HostConfig.NetworkMode and PortBindings). */
export interface NetworkConfig {
  mode: string;
  ports: PortMapping[];
  aliases?: string[];
}

/** Modes that connect to a network (the default bridge or a user-defined one), as opposed to none/host. */
export function connects(mode: string): boolean {
  return mode !== 'none' && mode !== 'host';
}

/** The ports of the image's ExposedPorts (`"80/tcp": {}`), for -P. */
function exposed(exposedPorts: Record<string, unknown> | undefined): PortMapping[] {
  return Object.keys(exposedPorts ?? {}).map((key) => parsePortMapping(key.includes('/') ? key : `${key}/tcp`));
}

/** Checks the flags against the networks under `root`; returns what to record. */
export function planNetwork(flags: NetworkFlags, root: string, exposedPorts?: Record<string, unknown>): NetworkConfig {
  const mode = flags.network ?? 'bridge';
  if (mode === 'default') return planNetwork({ ...flags, network: 'bridge' }, root, exposedPorts);
  if (mode.startsWith('container:')) throw new IsolaError('EUNSUPPORTED', `--network ${mode}: joining another container's network is not supported yet`);
  const ports = (flags.publish ?? []).map(parsePortMapping);
  if (flags.publishAll) ports.push(...exposed(exposedPorts));
  if (ports.length > 0 && !connects(mode)) {
    throw new IsolaError('EUSAGE', `-p/--publish: ports cannot be published with --network ${mode} (only on bridge and user-defined networks)`);
  }
  const aliases = flags.networkAlias ?? [];
  if (aliases.length > 0 && (!connects(mode) || mode === 'bridge')) {
    throw new IsolaError('EUSAGE', `--network-alias: network-scoped aliases are only supported on user-defined networks (not ${mode})`);
  }
  let name = mode;
  if (connects(mode) && mode !== 'bridge') {
    try {
      name = new Networks({ root }).ctx.store.get(mode).name; // a name or a unique id prefix, as docker takes
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENONETWORK') throw error;
      throw new IsolaError('ENONETWORK', `network ${mode} not found`);
    }
  }
  return { mode: name, ports, ...(aliases.length ? { aliases } : {}) };
}
