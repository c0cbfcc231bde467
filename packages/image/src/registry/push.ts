// `isola push`: layers and config first (skipped when the registry has them: HEAD), then the
// manifest under the tag. Blobs up to `chunkSize` go in one PUT; bigger ones are sent in chunks
// (POST to open the upload, PATCH per chunk with Content-Range, PUT with the digest to close it),
// so a large layer never has to be in memory at once.
import { open } from 'node:fs/promises';
import { ImageError } from '../errors.js';
import type { ImageRecord } from '../store/metadata.js';
import { formatReference, parseReference } from '../store/reference.js';
import type { ImageStore } from '../store/store.js';
import { RegistryClient, type RegistryOptions } from './client.js';
import { runLimited } from './pull.js';
import type { ProgressListener } from './progress.js';

export interface PushOptions extends RegistryOptions {
  /** Bytes per PATCH; blobs up to this size are uploaded in one request. 8 MiB by default. */
  chunkSize?: number;
  concurrency?: number;
  progress?: ProgressListener;
}

export interface PushResult {
  name: string;
  digest: string;
  uploaded: number;
  skipped: number;
}

async function readChunk(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function uploadBlob(store: ImageStore, client: RegistryClient, path: string, scope: string, digest: string, size: number, options: PushOptions): Promise<boolean> {
  const exists = await client.request(`/v2/${path}/blobs/${digest}`, { method: 'HEAD', scope, ok: [404] });
  if (exists.status === 200) {
    options.progress?.({ kind: 'start', digest, total: size, what: 'exists' });
    options.progress?.({ kind: 'done', digest, status: 'Layer already exists' });
    return false;
  }
  options.progress?.({ kind: 'start', digest, total: size, what: 'push' });
  // The blob is checked against its digest before it leaves (read-back verification).
  for await (const _ of store.blobs.stream(digest)) void _;
  const blobPath = store.blobs.path(digest);
  const chunkSize = options.chunkSize ?? 8 << 20;
  const started = await client.request(`/v2/${path}/blobs/uploads/`, { method: 'POST', scope, headers: { 'content-length': '0' } });
  let location = started.headers.get('location');
  if (location === null) throw new ImageError('EREGISTRY_HTTP', `${client.domain}/${path}: upload started without a Location`);
  const absolute = (loc: string) => new URL(loc, client.base).toString();
  location = absolute(location);
  let offset = 0;
  if (size > chunkSize) {
    while (offset < size) {
      const chunk = await readChunk(blobPath, offset, Math.min(chunkSize, size - offset));
      const response = await client.request(location, {
        method: 'PATCH',
        scope,
        body: chunk,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}`, 'content-length': String(chunk.length) },
      });
      offset += chunk.length;
      options.progress?.({ kind: 'bytes', digest, done: offset });
      location = absolute(response.headers.get('location') ?? location);
    }
  }
  const last = offset < size ? await readChunk(blobPath, offset, size - offset) : Buffer.alloc(0);
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  await client.request(url.toString(), { method: 'PUT', scope, body: last, headers: { 'content-type': 'application/octet-stream', 'content-length': String(last.length) } });
  options.progress?.({ kind: 'done', digest, status: 'Pushed' });
  return true;
}

/** Pushes the local image `source` to `destination` (default: the name `source` gave). */
export async function pushImage(store: ImageStore, source: string, destination: string | undefined, options: PushOptions = {}): Promise<PushResult> {
  const { record, tag } = await store.resolve(source);
  const target = destination ?? tag;
  if (target === undefined) throw new ImageError('EIMAGE_REFERENCE', `push ${source}: an image ID has no registry; name the destination (isola push ${source} HOST/NAME:TAG)`);
  const ref = parseReference(target);
  const client = new RegistryClient(ref.domain, options);
  const scope = `repository:${ref.path}:pull,push`;
  const blobs = [...uniqueLayers(record), { digest: record.config, size: (await store.blobs.size(record.config)) ?? 0 }];
  let uploaded = 0;
  await runLimited(blobs, options.concurrency ?? 3, async ({ digest, size }) => {
    if (await uploadBlob(store, client, ref.path, scope, digest, size, options)) uploaded++;
  });
  const manifest = await store.blobs.read(record.digest, 'image manifest');
  const response = await client.request(`/v2/${ref.path}/manifests/${ref.digest ?? ref.tag}`, {
    method: 'PUT',
    scope,
    body: manifest,
    headers: { 'content-type': record.manifestMediaType },
  });
  const answered = response.headers.get('docker-content-digest');
  if (answered !== null && answered !== record.digest) {
    throw new ImageError('EIMAGE_DIGEST', `${formatReference(ref)}: the registry stored the manifest as ${answered}, expected ${record.digest}`);
  }
  return { name: formatReference(ref), digest: record.digest, uploaded, skipped: blobs.length - uploaded };
}

function uniqueLayers(record: ImageRecord): Array<{ digest: string; size: number }> {
  const seen = new Set<string>();
  return record.layers.filter((l) => !seen.has(l.digest) && seen.add(l.digest)).map((l) => ({ digest: l.digest, size: l.size }));
}
