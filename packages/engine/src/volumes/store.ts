// Named volumes, under the isola root like docker's local driver keeps them:
//
//   <root>/volumes/<name>/_data          what containers see (the mount source)
//   <root>/volumes/<name>/volume.json    name, creation time, labels, whether it is anonymous
//
// Making <root>/volumes/<name> is the atomic claim of a name; a directory without volume.json is a
// volume still being made.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsolaError } from '@isola/errors';
import { VOLUME_NAME } from './mount-spec.js';

export interface VolumeRecord {
  name: string;
  createdAt: string;
  labels: Record<string, string>;
  /** Made for one container by `-v /path` (no name given); removed with it by --rm. */
  anonymous: boolean;
}

export class VolumeStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'volumes');
  }

  static check(name: string): void {
    if (!VOLUME_NAME.test(name)) {
      throw new IsolaError('EINVAL', `invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least two characters`);
    }
  }

  mountpoint(name: string): string {
    return join(this.dir, name, '_data');
  }

  /** Makes the volume (a random name when none is given); `created` false when it already existed. */
  create(name: string | undefined, options: { labels?: Record<string, string>; anonymous?: boolean } = {}): { record: VolumeRecord; created: boolean } {
    const volumeName = name ?? randomBytes(32).toString('hex');
    VolumeStore.check(volumeName);
    mkdirSync(this.dir, { recursive: true, mode: 0o701 });
    try {
      mkdirSync(join(this.dir, volumeName), { mode: 0o701 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return { record: this.get(volumeName), created: false };
    }
    const record: VolumeRecord = { name: volumeName, createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), labels: options.labels ?? {}, anonymous: options.anonymous ?? false };
    mkdirSync(this.mountpoint(volumeName), { mode: 0o755 });
    const meta = join(this.dir, volumeName, 'volume.json');
    writeFileSync(`${meta}.tmp`, JSON.stringify(record, null, 2));
    renameSync(`${meta}.tmp`, meta);
    return { record, created: true };
  }

  get(name: string): VolumeRecord {
    if (!VOLUME_NAME.test(name) || !existsSync(this.mountpoint(name))) throw new IsolaError('ENOTFOUND', `no such volume: ${name}`);
    try {
      return JSON.parse(readFileSync(join(this.dir, name, 'volume.json'), 'utf8')) as VolumeRecord;
    } catch {
      return { name, createdAt: new Date(0).toISOString(), labels: {}, anonymous: false }; // being made
    }
  }

  list(): VolumeRecord[] {
    if (!existsSync(this.dir)) return [];
    const records: VolumeRecord[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      try {
        records.push(this.get(name));
      } catch {
        // removed while listing
      }
    }
    return records;
  }

  remove(name: string): void {
    this.get(name);
    rmSync(join(this.dir, name), { recursive: true, force: true, maxRetries: 3 });
  }
}
