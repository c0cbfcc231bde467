// `isola pull`: manifest (through a multi-platform index if there is one), then config and layers,
// several at a time, each into the blob store through the same verify-then-rename path as a load.
// A download cut off half-way is resumed with a Range request from the byte it stopped at, the hash
// carried on; a server that ignores Range sends it all again and the partial file starts over.
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { ImageError } from '../errors.js';
import { sha256Of } from '../store/digest.js';
import { checkImageTypes } from '../store/image-types.js';
import type { Lease } from '../store/leases.js';
import type { ImageRecord } from '../store/metadata.js';
import { INDEX_TYPES, MANIFEST_TYPES, MediaType, hostPlatform, parseIndex, parseManifest, selectPlatform, type Descriptor, type Platform } from '../store/oci.js';
import { formatReference, parseReference, repositoryOf } from '../store/reference.js';
import type { ImageStore } from '../store/store.js';
import { tempName } from '../store/files.js';
import { RegistryClient, type RegistryOptions } from './client.js';
import type { ProgressListener } from './progress.js';

export interface PullOptions extends RegistryOptions {
  platform?: Platform;
  /** Blobs downloaded at once; 4 by default. */
  concurrency?: number;
  /** Attempts per blob, counting the first; 5 by default. */
  retries?: number;
  progress?: ProgressListener;
}

export interface PullResult {
  record: ImageRecord;
  name: string;
  /** Blobs fetched, and blobs the store already had. */
  downloaded: number;
  skipped: number;
}

const ACCEPT = [MediaType.index, MediaType.manifest, MediaType.dockerList, MediaType.dockerManifest].join(', ');

/**
 * Runs `task` over `items`, at most `limit` at a time. After a failure nothing new starts; the
 * ones in flight are waited for (so none writes after the caller cleaned up), then it is thrown.
 */
export async function runLimited<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

async function fetchManifest(client: RegistryClient, path: string, reference: string, scope: string, expected?: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
  const response = await client.request(`/v2/${path}/manifests/${reference}`, { headers: { accept: ACCEPT }, scope });
  const bytes = await response.bytes();
  const digest = sha256Of(bytes);
  if (expected !== undefined && digest !== expected) {
    throw new ImageError('EIMAGE_DIGEST', `${client.domain}/${path} manifest ${reference}: digest mismatch: expected ${expected}, got ${digest}`);
  }
  const type = response.headers.get('content-type')?.split(';')[0].trim() ?? '';
  let parsed: { mediaType?: string; manifests?: unknown };
  try {
    parsed = (JSON.parse(bytes.toString()) ?? {}) as typeof parsed;
  } catch (error) {
    throw new ImageError('EIMAGE_FORMAT', `${client.domain}/${path} manifest ${reference}: not JSON (${(error as Error).message})`);
  }
  const mediaType = parsed.mediaType ?? (INDEX_TYPES.includes(type) || MANIFEST_TYPES.includes(type) ? type : parsed.manifests ? MediaType.index : MediaType.manifest);
  return { bytes, digest, mediaType };
}

/** Downloads one blob into the store, resuming after a broken connection. */
async function downloadBlob(store: ImageStore, client: RegistryClient, path: string, scope: string, blob: Descriptor, what: string, lease: Lease, options: PullOptions): Promise<void> {
  const temp = tempName(store.blobs.tmp, 'download');
  const handle = await open(temp, 'wx', 0o644);
  let hash = createHash('sha256');
  let size = 0;
  const attempts = options.retries ?? 5;
  options.progress?.({ kind: 'start', digest: blob.digest, total: blob.size, what });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const headers: Record<string, string> = size > 0 ? { range: `bytes=${size}-` } : {};
        const response = await client.request(`/v2/${path}/blobs/${blob.digest}`, { headers, scope });
        if (size > 0 && response.status !== 206) {
          // The server sent the whole blob again: start over.
          hash = createHash('sha256');
          size = 0;
          await handle.truncate(0);
        }
        // The socket hands out ~16-64 KiB chunks; one write per MiB keeps the syscalls (and the
        // thread pool round trips) down. One write is in flight while the next MiB arrives, so the
        // socket is not paused for the disk. What was received but not written is fetched again.
        let pending: Uint8Array[] = [];
        let pendingBytes = 0;
        let received = size;
        let writing: Promise<void> = Promise.resolve();
        const flush = async () => {
          await writing;
          if (pendingBytes === 0) return;
          const batch = pending;
          const bytes = pendingBytes;
          pending = [];
          pendingBytes = 0;
          writing = (async () => {
            await handle.writev(batch, size);
            for (const part of batch) hash.update(part);
            size += bytes;
            options.progress?.({ kind: 'bytes', digest: blob.digest, done: size });
          })();
          // Awaited by the next flush; until then a failure must not count as unhandled.
          writing.catch(() => undefined);
        };
        try {
          for await (const chunk of response.body) {
            received += chunk.length;
            if (received > blob.size) throw new ImageError('EIMAGE_DIGEST', `${what} ${blob.digest}: the registry sent more than the ${blob.size} bytes the manifest says`);
            pending.push(chunk);
            pendingBytes += chunk.length;
            if (pendingBytes >= 1 << 20) await flush();
          }
        } finally {
          // Keep what arrived before a broken connection: the retry asks for the rest.
          await flush();
          await writing;
        }
        if (size === blob.size) break;
        throw new Error(`connection closed after ${size} of ${blob.size} bytes`);
      } catch (error) {
        if (error instanceof ImageError && (error.code === 'EIMAGE_DIGEST' || error.code === 'EREGISTRY_AUTH')) throw error;
        if (attempt >= attempts) {
          throw new ImageError('EREGISTRY_UNREACHABLE', `download ${what} ${blob.digest} from ${client.domain}/${path}: gave up after ${attempts} attempts, ${size} of ${blob.size} bytes received`, { cause: error });
        }
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await store.blobs.commit(temp, `sha256:${hash.digest('hex')}`, size, { digest: blob.digest, size: blob.size, what }, (d) => lease.addBlobs(d));
  } finally {
    await rm(temp, { force: true });
  }
  options.progress?.({ kind: 'done', digest: blob.digest, status: 'Pull complete' });
}

export async function pullImage(store: ImageStore, reference: string, options: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(reference);
  const name = formatReference(ref);
  const client = new RegistryClient(ref.domain, options);
  const scope = `repository:${ref.path}:pull`;
  const lease = await store.lease();
  /** The blobs this pull adds to the store (not those it found there): what a failure takes back. */
  const added = new Set<string>();
  const putManifest = async (bytes: Buffer, digest: string) => {
    if ((await store.blobs.size(digest)) === undefined) added.add(digest);
    await store.blobs.put(bytes, { digest }, (d) => lease.addBlobs(d));
  };
  try {
    let top = await fetchManifest(client, ref.path, ref.digest ?? ref.tag!, scope, ref.digest);
    await putManifest(top.bytes, top.digest);
    let index: string | undefined;
    if (INDEX_TYPES.includes(top.mediaType)) {
      index = top.digest;
      const chosen = selectPlatform(parseIndex(top.bytes, `${name} index`), options.platform ?? hostPlatform(), name);
      top = await fetchManifest(client, ref.path, chosen.digest, scope, chosen.digest);
      await putManifest(top.bytes, top.digest);
    }
    const manifest = parseManifest(top.bytes, `${name} manifest ${top.digest}`);
    checkImageTypes(manifest, name);
    const blobs = [manifest.config, ...manifest.layers];
    const missing: Array<{ blob: Descriptor; what: string }> = [];
    // Held before the store is asked whether it has them, so that no GC removes one in between.
    await lease.addBlobs(...blobs.map((blob) => blob.digest));
    for (const [i, blob] of blobs.entries()) {
      if ((await store.blobs.size(blob.digest)) === blob.size) {
        options.progress?.({ kind: 'start', digest: blob.digest, total: blob.size, what: 'exists' });
        options.progress?.({ kind: 'done', digest: blob.digest, status: 'Already exists' });
      } else {
        missing.push({ blob, what: i === 0 ? `config of ${name}` : `layer ${i} of ${name}` });
        added.add(blob.digest);
      }
    }
    await runLimited(missing, options.concurrency ?? 4, ({ blob, what }) => downloadBlob(store, client, ref.path, scope, blob, what, lease, options));
    const repository = repositoryOf(ref);
    const record = await store.addImage(top.digest, {
      names: ref.tag !== undefined ? [`${repository}:${ref.tag}`] : [],
      index,
      repoDigests: [`${repository}@${index ?? top.digest}`],
    });
    return { record, name, downloaded: missing.length, skipped: blobs.length - missing.length };
  } catch (error) {
    // What this pull stored (manifests, whole blobs) belongs to no image: deleted now, not at the next
    // prune. Except after a network failure: as with docker, the layers that did arrive stay (unreferenced,
    // so `image prune` can still take them) and the next pull of the image does not fetch them again.
    if (error instanceof ImageError && error.code === 'EREGISTRY_UNREACHABLE') await lease.release();
    else await store.dropLease(lease, added);
    throw error;
  } finally {
    await lease.release();
  }
}


