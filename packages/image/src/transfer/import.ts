// From the files of a layout or archive to image records: OCI (index.json → manifests, possibly
// through a multi-platform index) and docker save (manifest.json → config + layer tars, for which an
// OCI manifest is written, since docker archives carry none).
import { open } from 'node:fs/promises';
import { ImageError } from '../errors.js';
import { sniffCompression } from '../layer/blob.js';
import { checkImageTypes } from '../store/image-types.js';
import type { ImageRecord } from '../store/metadata.js';
import { Annotation, INDEX_TYPES, MANIFEST_TYPES, MediaType, hostPlatform, jsonBytes, parseConfig, parseIndex, parseManifest, selectPlatform, type Descriptor, type Platform } from '../store/oci.js';
import { normalizeTag, parseReference } from '../store/reference.js';
import type { ImageStore } from '../store/store.js';
import { ociBlobName, type SourceFiles } from './source.js';

export interface ImportOptions {
  /** Name for images the input does not name (allowed when it holds one image). */
  tag?: string;
  platform?: Platform;
}

export interface LoadedImage {
  record: ImageRecord;
  names: string[];
}

/**
 * The image name an index.json entry gives: containerd's full name annotation; isola's busybox
 * builder's name + `ref.name` tag; or `ref.name` itself when it is a full reference (has a / or :).
 * A bare `ref.name` (`latest`, what `skopeo copy … oci:dir:latest` writes) names no repository.
 */
export function nameOf(annotations: Record<string, string> | undefined): string | undefined {
  const ref = annotations?.[Annotation.refName];
  const full = annotations?.[Annotation.containerdName];
  if (full) return full;
  const isola = annotations?.[Annotation.isolaName];
  if (isola) return ref && !ref.includes(':') && !ref.includes('/') ? `${isola}:${ref}` : isola;
  if (ref && (ref.includes('/') || ref.includes(':'))) {
    try {
      parseReference(ref);
      return ref;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

async function ingestManifest(store: ImageStore, files: SourceFiles, descriptor: Descriptor): Promise<void> {
  const what = `${files.label} manifest ${descriptor.digest}`;
  await files.blob(ociBlobName(descriptor.digest), { digest: descriptor.digest, size: descriptor.size, what });
  const manifest = parseManifest(await store.blobs.read(descriptor.digest, what), what);
  checkImageTypes(manifest, what);
  const blobs = [manifest.config, ...manifest.layers];
  for (const [i, blob] of blobs.entries()) {
    await files.blob(ociBlobName(blob.digest), { digest: blob.digest, size: blob.size, what: `${files.label} ${i === 0 ? 'config' : `layer ${i}`} ${blob.digest}` });
  }
}

export async function importOci(store: ImageStore, files: SourceFiles, options: ImportOptions): Promise<LoadedImage[]> {
  const layoutBytes = await files.text('oci-layout');
  if (layoutBytes === undefined) throw new ImageError('EIMAGE_FORMAT', `${files.label}: no oci-layout file, not an OCI image layout`);
  let version: unknown;
  try {
    version = (JSON.parse(layoutBytes.toString()) as { imageLayoutVersion?: string } | null)?.imageLayoutVersion;
  } catch (error) {
    throw new ImageError('EIMAGE_FORMAT', `${files.label}: oci-layout: not JSON (${(error as Error).message})`);
  }
  if (version !== '1.0.0') throw new ImageError('EIMAGE_FORMAT', `${files.label}: imageLayoutVersion ${JSON.stringify(version)} is not 1.0.0`);
  const indexBytes = await files.text('index.json');
  if (indexBytes === undefined) throw new ImageError('EIMAGE_FORMAT', `${files.label}: index.json is missing`);
  const index = parseIndex(indexBytes, `${files.label} index.json`);
  const platform = options.platform ?? hostPlatform();
  const loaded: LoadedImage[] = [];
  for (const entry of index.manifests) {
    let descriptor = entry;
    let indexDigest: string | undefined;
    if (INDEX_TYPES.includes(entry.mediaType)) {
      const what = `${files.label} index ${entry.digest}`;
      await files.blob(ociBlobName(entry.digest), { digest: entry.digest, size: entry.size, what });
      const nested = parseIndex(await store.blobs.read(entry.digest, what), what);
      descriptor = selectPlatform(nested, platform, what);
      indexDigest = entry.digest;
    } else if (!MANIFEST_TYPES.includes(entry.mediaType)) {
      continue; // artifacts, signatures: not images
    }
    await ingestManifest(store, files, descriptor);
    const found = nameOf(entry.annotations);
    const name = found === undefined ? undefined : normalizeTag(found);
    loaded.push({ record: await store.addImage(descriptor.digest, { names: name ? [name] : [], index: indexDigest }), names: name ? [name] : [] });
  }
  return loaded;
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function headOf(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function importDocker(store: ImageStore, files: SourceFiles, manifestJson: Buffer): Promise<LoadedImage[]> {
  let entries: DockerManifestEntry[];
  try {
    entries = JSON.parse(manifestJson.toString()) as DockerManifestEntry[];
    if (!Array.isArray(entries)) throw new Error('not an array');
  } catch (error) {
    throw new ImageError('EIMAGE_FORMAT', `${files.label}: manifest.json: ${(error as Error).message}`);
  }
  const loaded: LoadedImage[] = [];
  for (const [n, entry] of entries.entries()) {
    if (typeof entry?.Config !== 'string' || !Array.isArray(entry.Layers)) throw new ImageError('EIMAGE_FORMAT', `${files.label}: manifest.json[${n}] has no Config or Layers`);
    const config = await files.blob(entry.Config, { what: `${files.label} ${entry.Config}` });
    parseConfig(await store.blobs.read(config.digest), `${files.label} ${entry.Config}`);
    const layers: Descriptor[] = [];
    for (const path of entry.Layers) {
      const layer = await files.blob(path);
      const compression = sniffCompression(await headOf(store.blobs.path(layer.digest)));
      const mediaType = compression === 'gzip' ? MediaType.layerGzip : compression === 'zstd' ? MediaType.layerZstd : MediaType.layer;
      layers.push({ mediaType, digest: layer.digest, size: layer.size });
    }
    const manifest = jsonBytes({ schemaVersion: 2, mediaType: MediaType.manifest, config: { mediaType: MediaType.config, digest: config.digest, size: config.size }, layers });
    const lease = await store.lease();
    try {
      const { digest } = await store.blobs.put(manifest, {}, (d) => lease.addBlobs(d));
      const names = (entry.RepoTags ?? []).filter((t) => t !== '<none>:<none>').map(normalizeTag);
      loaded.push({ record: await store.addImage(digest, { names }), names });
    } finally {
      await lease.release();
    }
  }
  return loaded;
}

/** Applies `--tag` to the single unnamed image of a load. */
export async function nameUnnamed(store: ImageStore, loaded: LoadedImage[], tag: string | undefined, label: string): Promise<void> {
  if (tag === undefined) return;
  if (loaded.length !== 1) throw new ImageError('EIMAGE_REFERENCE', `${label} holds ${loaded.length} images; a name can only be given to one`);
  const name = await store.tag(loaded[0].record.digest, tag);
  loaded[0].names = [...new Set([...loaded[0].names, name])];
}
