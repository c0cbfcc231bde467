// Mark and sweep: every blob and unpacked layer an image record or a live lease refers to is kept,
// the rest is deleted. The reference counts are kept in the result, since "which images share this
// layer" is the question a person asks when a prune frees less than expected.
//
// Ordering against concurrent writers, who take no lock to write blobs: the blob list is read first
// and the leases after it. A writer adds a digest to its lease before renaming the blob into place,
// so a blob that is already in the list either belongs to an image or to a lease this GC will read.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { chainIds } from './digest.js';
import { isLiveOwner } from './lock.js';
import type { Metadata } from './metadata.js';
import type { ImageStore } from './store.js';

export interface GcResult {
  deletedBlobs: string[];
  deletedLayers: string[];
  reclaimedBytes: number;
  /** Digest → number of image records that use it, for what was kept. */
  refCounts: Map<string, number>;
}

function pidAlive(pid: number): boolean {
  return isLiveOwner(`${pid} ?`);
}

/**
 * Call with the store lock held. With `only`, just those blobs are candidates (what one failed pull or
 * load stored), and nothing else in the store is looked at or swept.
 */
export async function collectGarbage(store: ImageStore, metadata: Metadata, only?: ReadonlySet<string>): Promise<GcResult> {
  const blobs = only ? [...only] : await store.blobs.list();
  const layers = only ? [] : await store.layers.list();
  const leases = await store.leases.live();

  const refCounts = new Map<string, number>();
  const count = (digest: string) => refCounts.set(digest, (refCounts.get(digest) ?? 0) + 1);
  for (const record of Object.values(metadata.images)) {
    for (const digest of new Set([record.digest, record.config, ...record.layers.map((l) => l.digest), ...(record.index ? [record.index] : [])])) count(digest);
    for (const chain of chainIds(record.diffIds)) count(chain);
  }
  const leased = new Set(leases.flatMap((l) => [...l.blobs, ...l.layers]));

  let reclaimedBytes = 0;
  const deletedBlobs: string[] = [];
  for (const digest of blobs) {
    if (refCounts.has(digest) || leased.has(digest)) continue;
    const size = await store.blobs.size(digest);
    if (size === undefined) continue; // `only` may name blobs that were never stored
    reclaimedBytes += size;
    await store.blobs.delete(digest);
    deletedBlobs.push(digest);
  }
  const deletedLayers: string[] = [];
  for (const chain of layers) {
    if (refCounts.has(chain) || leased.has(chain)) continue;
    await store.layers.delete(chain);
    deletedLayers.push(chain);
  }
  if (only) return { deletedBlobs, deletedLayers, reclaimedBytes, refCounts };
  for (const stale of await store.layers.staleStaging(pidAlive)) await rm(stale, { recursive: true, force: true });
  // Temp files of writers that died: `ingest-<pid>-<rand>` and friends.
  for (const name of await readdir(store.blobs.tmp)) {
    const pid = /^[a-z]+-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && !pidAlive(Number(pid))) {
      const path = join(store.blobs.tmp, name);
      reclaimedBytes += (await stat(path).catch(() => ({ size: 0 }))).size;
      await rm(path, { recursive: true, force: true });
    }
  }
  return { deletedBlobs, deletedLayers, reclaimedBytes, refCounts };
}
