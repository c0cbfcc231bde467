// `isola volume ls` and `isola volume inspect`: docker's fields for each volume.
import { openStores } from '../containers/create.js';
import { VolumeStore, type VolumeRecord } from './store.js';
import { volumeUsers } from './users.js';

/** docker volume inspect's shape. */
export interface VolumeInfo {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string>;
  Scope: 'local';
  /** Ids of the containers that use it (not in docker's inspect; `ls` and `prune` go by it). */
  UsedBy: string[];
  Anonymous: boolean;
}

function info(volumes: VolumeStore, record: VolumeRecord, users: string[]): VolumeInfo {
  return {
    CreatedAt: record.createdAt, Driver: 'local', Labels: record.labels, Mountpoint: volumes.mountpoint(record.name),
    Name: record.name, Options: {}, Scope: 'local', UsedBy: users, Anonymous: record.anonymous,
  };
}

export async function listVolumes(options: { root?: string } = {}): Promise<VolumeInfo[]> {
  const { containers } = await openStores(options.root);
  const volumes = new VolumeStore(containers.root);
  return volumes.list().map((r) => info(volumes, r, volumeUsers(containers, r.name)));
}

export async function inspectVolumes(names: readonly string[], options: { root?: string } = {}): Promise<VolumeInfo[]> {
  const { containers } = await openStores(options.root);
  const volumes = new VolumeStore(containers.root);
  return names.map((name) => info(volumes, volumes.get(name), volumeUsers(containers, name)));
}
