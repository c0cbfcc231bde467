// Writes hosts files in place: they are bind-mounted into running containers, and a rename would leave
// the container looking at the old inode. A file that is gone (its container was removed) is skipped.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { NetworkRecord } from '../store/store.js';
import { renderHosts } from './hosts.js';

export function writeInPlace(path: string, content: string): void {
  const fd = openSync(path, 'r+');
  try {
    const bytes = Buffer.from(content);
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}

/** Rewrites the hosts file of every container on `network` from the current records. */
export function refreshHostsFiles(network: NetworkRecord, all: readonly NetworkRecord[]): void {
  for (const endpoint of Object.values(network.endpoints)) {
    if (!endpoint.hostsPath) continue;
    try {
      writeInPlace(endpoint.hostsPath, renderHosts(endpoint.containerId, all));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** The host's resolv.conf text ('' when it has none). */
export function readHostResolvConf(path = '/etc/resolv.conf'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
