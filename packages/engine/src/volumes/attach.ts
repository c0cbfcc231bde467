// The parsed mount flags of a new container, made real: bind sources checked, volumes made (and filled
// from the image on first use, as docker does), and every mount put in the OCI spec. The runtime mounts
// them, each target resolved inside the rootfs with openat2(RESOLVE_IN_ROOT).
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import { type Mount, secureJoin } from '@isola/container';
import type { MountRequest } from './mount-spec.js';
import { VolumeStore } from './store.js';

/** A container's mount as its config records it (and `inspect` shows it). */
export interface MountRecord {
  type: 'bind' | 'volume' | 'tmpfs';
  /** The volume's name. */
  name?: string;
  /** The host path (the volume's _data), '' for tmpfs. */
  source: string;
  destination: string;
  readonly: boolean;
  anonymous?: boolean;
  propagation?: string;
  /** tmpfs mount options. */
  options?: string[];
}

/** Fails, before anything is made, on a bind source that is not there (podman's and `docker --mount`'s rule). */
export function checkBindSources(requests: readonly MountRequest[]): void {
  for (const request of requests) {
    if (request.type !== 'bind') continue;
    try {
      lstatSync(request.source);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // One line, as docker says it: the errno adds nothing to "does not exist".
      throw new IsolaError('ENOTFOUND', `bind source path does not exist: ${request.source}${code === 'ENOENT' ? '' : ` (${code})`}`);
    }
  }
}

/** Copies what the image has at `target` into a new, empty volume (ownership, modes, links and all). */
function copyUp(rootfs: string, target: string, data: string): void {
  const from = secureJoin(rootfs, target);
  try {
    if (!statSync(from).isDirectory()) return;
  } catch {
    return; // nothing there in the image
  }
  if (readdirSync(data).length > 0) return;
  try {
    execFileSync('cp', ['-a', '--', `${from}/.`, `${data}/`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const why = String((error as { stderr?: Buffer }).stderr ?? '').trim().split('\n')[0] || String(error);
    throw new IsolaError('ECOPYUP', `cannot copy the image's ${target} into volume ${data}: ${why}`, { cause: error });
  }
}

/**
 * Makes the volumes (recording in `made` those it created, for the caller to remove on failure) and
 * returns the records, in docker's order: parents before what is mounted inside them.
 */
export function prepareMounts(volumes: VolumeStore, requests: readonly MountRequest[], rootfs: string, made: string[]): MountRecord[] {
  const sorted = [...requests].sort((a, b) => a.target.split('/').length - b.target.split('/').length);
  return sorted.map((request): MountRecord => {
    if (request.type === 'bind') {
      return { type: 'bind', source: request.source, destination: request.target, readonly: request.readonly, propagation: request.propagation ?? 'rprivate' };
    }
    if (request.type === 'tmpfs') return { type: 'tmpfs', source: '', destination: request.target, readonly: request.options.includes('ro'), options: request.options };
    const { record, created } = volumes.create(request.name, { anonymous: request.name === undefined });
    if (created) made.push(record.name);
    const data = volumes.mountpoint(record.name);
    if (!request.nocopy) copyUp(rootfs, request.target, data);
    return { type: 'volume', name: record.name, source: data, destination: request.target, readonly: request.readonly, anonymous: record.anonymous || undefined };
  });
}

/** The OCI mount: binds (volumes are binds of their _data) rbind and rprivate by default, tmpfs noexec,nosuid,nodev as docker's. */
export function ociMount(record: MountRecord): Mount {
  if (record.type === 'tmpfs') {
    return { destination: record.destination, type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', ...(record.options ?? [])] };
  }
  return { destination: record.destination, type: 'bind', source: record.source, options: ['rbind', record.readonly ? 'ro' : 'rw', record.propagation ?? 'rprivate'] };
}

/** The spec's mounts with the user's added: a user mount on a default's target replaces it (e.g. --tmpfs /dev/shm). */
export function withUserMounts(defaults: readonly Mount[], records: readonly MountRecord[]): Mount[] {
  const targets = new Set(records.map((r) => r.destination));
  return [...defaults.filter((m) => !targets.has(m.destination)), ...records.map(ociMount)];
}
