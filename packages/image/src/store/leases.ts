// Leases: what a running operation holds on to that no tag references yet (blobs of a pull in
// progress), or that must outlive its tags (layers under a mounted container rootfs). GC treats the
// contents of every live lease as roots. A lease file belongs to a process; when that process is
// gone the lease is stale and GC deletes it, so a crashed pull leaves garbage that the next prune
// collects, never a store that cannot be cleaned.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './files.js';
import { isLiveOwner, ownerToken } from './lock.js';

export interface LeaseContent {
  owner: string;
  /** Blobs by digest. */
  blobs: string[];
  /** Unpacked layers by chain ID. */
  layers: string[];
  /** Set for leases that outlive their process (container rootfs mounts): kept until released. */
  persistent?: boolean;
}

export class Lease {
  private readonly content: LeaseContent;

  constructor(
    readonly path: string,
    persistent = false,
  ) {
    this.content = { owner: ownerToken(), blobs: [], layers: [], persistent };
  }

  /** The blobs recorded so far. */
  get blobs(): readonly string[] {
    return this.content.blobs;
  }

  /** Records `digests` before they are used: the file is on disk when this resolves. */
  async addBlobs(...digests: string[]): Promise<void> {
    const fresh = digests.filter((d) => !this.content.blobs.includes(d));
    if (fresh.length === 0) return;
    this.content.blobs.push(...fresh);
    await this.save();
  }

  async addLayers(...chainIds: string[]): Promise<void> {
    const fresh = chainIds.filter((d) => !this.content.layers.includes(d));
    if (fresh.length === 0) return;
    this.content.layers.push(...fresh);
    await this.save();
  }

  /**
   * Atomic for GC in other processes, which is what a lease is for. Only a persistent lease is also
   * synced: a process's own lease is stale after a crash whether or not it reached the disk, and its
   * two fsyncs per update were most of the time a pull spent before its first blob request.
   */
  async save(): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify(this.content), { durable: this.content.persistent === true });
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

export class Leases {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** A lease owned by this process; `name` makes it findable again (persistent leases). */
  async create(options: { name?: string; persistent?: boolean } = {}): Promise<Lease> {
    const name = options.name ?? `${process.pid}-${randomBytes(6).toString('hex')}`;
    const lease = new Lease(join(this.dir, `${name}.json`), options.persistent);
    await lease.save();
    return lease;
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.dir, `${name}.json`), { force: true });
  }

  /** The persistent leases (`container-<id>`: a container's mounted rootfs), by name. */
  private async persistent(): Promise<Array<{ name: string; content: LeaseContent }>> {
    const out: Array<{ name: string; content: LeaseContent }> = [];
    for (const file of await readdir(this.dir)) {
      if (!file.endsWith('.json') || file.startsWith('.')) continue;
      const content = await readFile(join(this.dir, file), 'utf8').then((text) => JSON.parse(text) as LeaseContent, () => undefined);
      if (content?.persistent) out.push({ name: file.slice(0, -'.json'.length), content });
    }
    return out;
  }

  /** Every blob a persistent lease holds. */
  async persistentBlobs(): Promise<Set<string>> {
    return new Set((await this.persistent()).flatMap(({ content }) => content.blobs));
  }

  /** The names of the persistent leases that hold blob `digest`. */
  async persistentHolders(digest: string): Promise<string[]> {
    return (await this.persistent()).filter(({ content }) => content.blobs.includes(digest)).map(({ name }) => name);
  }

  /** The live leases; stale ones (owner gone, not persistent) are deleted on the way. */
  async live(): Promise<LeaseContent[]> {
    const out: LeaseContent[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const path = join(this.dir, name);
      let content: LeaseContent;
      try {
        content = JSON.parse(await readFile(path, 'utf8')) as LeaseContent;
      } catch {
        // Being replaced right now (it is renamed into place whole), or cut short by a power failure: a
        // process's own lease is not synced. Torn and named for a process that is gone, it is stale.
        const pid = /^(\d+)-[0-9a-f]+\.json$/.exec(name)?.[1];
        if (pid !== undefined && !isLiveOwner(`${pid} ?`)) await rm(path, { force: true });
        continue;
      }
      if (content.persistent || isLiveOwner(content.owner)) out.push(content);
      else await rm(path, { force: true });
    }
    return out;
  }
}
