// What a container shares with the host, asked from inside one; what a VM shares is its device exits.
import { readdirSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import { capabilityCount, parseNamespaceLinks } from './host/proc.js';

export interface ContainerIsolation {
  kernel: string;
  hostKernel: string;
  /** Namespaces the container has of its own, and those it shares with the host. */
  ownNamespaces: string[];
  sharedNamespaces: string[];
  seccomp: boolean;
  capabilities: number;
  /** The root filesystem as the container sees it (`du -xsk /`: its image layers unpacked), in KiB. */
  rootfsKiB: number;
}

/** The command the container runs to describe itself. */
export const ISOLATION_PROBE = ['sh', '-c', 'uname -r; grep -E "^(Seccomp|CapEff):" /proc/self/status; ls -l /proc/self/ns; du -xsk /'];

function hostNamespaces(): Record<string, number> {
  const links: Record<string, number> = {};
  for (const name of readdirSync('/proc/self/ns')) {
    const match = /\[(\d+)\]/.exec(readlinkSync(`/proc/self/ns/${name}`));
    if (match) links[name] = Number(match[1]);
  }
  return links;
}

export function containerIsolation(probeOutput: string): ContainerIsolation {
  const inside = parseNamespaceLinks(probeOutput);
  const host = hostNamespaces();
  const names = Object.keys(inside).filter((name) => !name.endsWith('_for_children') && name in host).sort();
  return {
    kernel: probeOutput.split('\n')[0].trim(),
    hostKernel: release(),
    ownNamespaces: names.filter((name) => inside[name] !== host[name]),
    sharedNamespaces: names.filter((name) => inside[name] === host[name]),
    seccomp: /^Seccomp:\s+2$/m.test(probeOutput),
    capabilities: capabilityCount(/^CapEff:\s+([0-9a-f]+)$/m.exec(probeOutput)?.[1] ?? '0'),
    rootfsKiB: Number(/^(\d+)\s+\/$/m.exec(probeOutput)?.[1] ?? Number.NaN),
  };
}
