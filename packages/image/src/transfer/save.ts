// `isola save`: images from the store as an OCI layout directory, an OCI archive, or a docker-save
// archive. Files are staged beside the destination and renamed into place, so an interrupted save
// never leaves something that looks complete.
//
// index.json names each image twice: `org.opencontainers.image.ref.name` is the tag alone (what
// `skopeo … oci:DIR:latest` and `umoci --image DIR:latest` look for) and `io.containerd.image.name`
// the full name (what containerd, docker 25+ and `isola load` read back). When two images share a
// tag, ref.name becomes the full name so that each stays addressable.
import { createWriteStream } from 'node:fs';
import { copyFile, constants, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { ImageError, describeFsError, fsErrorDetails } from '../errors.js';
import { sniffCompression } from '../layer/blob.js';
import { hexOf } from '../store/digest.js';
import { tempName } from '../store/files.js';
import type { ImageRecord } from '../store/metadata.js';
import { tagsOf } from '../store/metadata.js';
import { Annotation, MediaType, jsonBytes } from '../store/oci.js';
import { familiarName, parseReference } from '../store/reference.js';
import type { ImageStore } from '../store/store.js';
import { TarWriter } from '../tar/writer.js';
import { ociBlobName } from './source.js';

export type SaveFormat = 'oci-archive' | 'oci-dir' | 'docker-archive';
export const SAVE_FORMATS: readonly SaveFormat[] = ['oci-archive', 'oci-dir', 'docker-archive'];

export interface SaveOptions {
  format?: SaveFormat;
  /** A path, or a stream for archives (`isola save` to stdout). */
  output: string | Writable;
}

interface Selected {
  record: ImageRecord;
  /** Normalized tags to write for it. */
  names: string[];
}

/** A file of the output: bytes, or a file on disk. */
interface OutFile {
  name: string;
  content: Buffer | { path: string };
  size: number;
  /** Set for store blobs: archives stream them through a digest check (read-back verification). */
  digest?: string;
}

async function select(store: ImageStore, refs: string[]): Promise<Selected[]> {
  if (refs.length === 0) throw new ImageError('EIMAGE_REFERENCE', 'no image to save');
  const metadata = await store.metadata();
  const out = new Map<string, Selected>();
  for (const ref of refs) {
    const { record, tag } = await store.resolve(ref, metadata);
    const entry = out.get(record.digest) ?? { record, names: [] };
    for (const name of tag !== undefined ? [tag] : tagsOf(metadata, record.digest)) if (!entry.names.includes(name)) entry.names.push(name);
    out.set(record.digest, entry);
  }
  return [...out.values()];
}

async function blobFile(store: ImageStore, digest: string): Promise<OutFile> {
  const path = store.blobs.path(digest);
  return { name: ociBlobName(digest), content: { path }, size: (await stat(path)).size, digest };
}

async function ociFiles(store: ImageStore, images: Selected[]): Promise<OutFile[]> {
  const blobs = new Map<string, OutFile>();
  const entries = [];
  const tags = images.flatMap((i) => i.names.map((n) => parseReference(n).tag));
  for (const { record, names } of images) {
    for (const digest of [record.digest, record.config, ...record.layers.map((l) => l.digest)]) {
      if (!blobs.has(digest)) blobs.set(digest, await blobFile(store, digest));
    }
    const descriptor = { mediaType: record.manifestMediaType, digest: record.digest, size: (await stat(store.blobs.path(record.digest))).size };
    if (names.length === 0) entries.push(descriptor);
    for (const name of names) {
      const tag = parseReference(name).tag!;
      const unique = tags.filter((t) => t === tag).length === 1;
      entries.push({ ...descriptor, annotations: { [Annotation.refName]: unique ? tag : name, [Annotation.containerdName]: name } });
    }
  }
  const index = jsonBytes({ schemaVersion: 2, mediaType: MediaType.index, manifests: entries });
  const layout = jsonBytes({ imageLayoutVersion: '1.0.0' });
  // index.json last: an archive reader that stops early has no index pointing at missing blobs.
  return [{ name: 'oci-layout', content: layout, size: layout.length }, ...blobs.values(), { name: 'index.json', content: index, size: index.length }];
}

/** A layer as the plain tar docker archives carry: the blob itself, or a verified decompressed copy. */
async function plainLayer(store: ImageStore, digest: string, diffId: string, scratch: string): Promise<{ path: string; size: number; digest?: string }> {
  const path = store.blobs.path(digest);
  const head = Buffer.alloc(4);
  const handle = await open(path, 'r');
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const compression = sniffCompression(head);
  if (compression === 'none') return { path, size: (await stat(path)).size, digest };
  if (compression === 'zstd') throw new ImageError('EIMAGE_FORMAT', `layer ${digest} is zstd-compressed, which docker archives (and isola) cannot carry`);
  const out = join(scratch, hexOf(diffId));
  const hash = createHash('sha256');
  await pipeline(store.blobs.stream(digest, 'layer'), createGunzip(), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
  }, createWriteStream(out));
  if (`sha256:${hash.digest('hex')}` !== diffId) throw new ImageError('EIMAGE_DIGEST', `layer ${digest} does not decompress to its diff_id ${diffId}`);
  return { path: out, size: (await stat(out)).size };
}

async function dockerFiles(store: ImageStore, images: Selected[], scratch: string): Promise<OutFile[]> {
  const files = new Map<string, OutFile>();
  const manifest = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { record, names } of images) {
    const configName = `${hexOf(record.config)}.json`;
    if (!files.has(configName)) files.set(configName, { ...(await blobFile(store, record.config)), name: configName });
    const layers: string[] = [];
    for (const [i, layer] of record.layers.entries()) {
      const name = `${hexOf(record.diffIds[i])}/layer.tar`;
      if (!files.has(name)) {
        const plain = await plainLayer(store, layer.digest, record.diffIds[i], scratch);
        files.set(name, { name, content: { path: plain.path }, size: plain.size, digest: plain.digest });
      }
      layers.push(name);
    }
    const repoTags = names.map(familiarName);
    manifest.push({ Config: configName, RepoTags: repoTags, Layers: layers });
    for (const tag of repoTags) {
      const colon = tag.lastIndexOf(':');
      (repositories[tag.slice(0, colon)] ??= {})[tag.slice(colon + 1)] = hexOf(record.diffIds.at(-1) ?? record.config);
    }
  }
  const manifestBytes = jsonBytes(manifest);
  const repositoriesBytes = jsonBytes(repositories);
  return [
    ...files.values(),
    { name: 'manifest.json', content: manifestBytes, size: manifestBytes.length },
    { name: 'repositories', content: repositoriesBytes, size: repositoriesBytes.length },
  ];
}

async function writeTar(store: ImageStore, files: OutFile[], out: Writable): Promise<void> {
  const tar = new TarWriter(out);
  const dirs = new Set<string>();
  for (const file of files) {
    const dir = file.name.includes('/') ? file.name.slice(0, file.name.lastIndexOf('/')) : '';
    const parts = dir === '' ? [] : dir.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        await tar.directory(d);
      }
    }
    await tar.file(file.name, file.digest !== undefined ? store.blobs.stream(file.digest, file.name) : file.content, file.size);
  }
  await tar.finish();
}

async function writeArchiveFile(store: ImageStore, files: OutFile[], path: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  // Opened here, not by createWriteStream: its open failure (a missing or read-only directory) is an
  // 'error' event that would reject `done` before anyone awaits it, and crash the process.
  const handle = await open(temp, 'wx');
  const out = handle.createWriteStream();
  try {
    const done = new Promise<void>((res, rej) => {
      out.on('finish', res);
      out.on('error', rej);
    });
    done.catch(() => undefined); // a write error also rejects writeTar's await, which reports it
    await writeTar(store, files, out);
    out.end();
    await done;
    await rename(temp, path);
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
}

async function writeDirectory(files: OutFile[], dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing !== undefined) throw new ImageError('EIMAGE_STORE', `save to ${dir}: it already exists (isola writes a new layout directory)`);
  await mkdir(dirname(dir), { recursive: true });
  const staged = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  try {
    await mkdir(join(staged, 'blobs', 'sha256'), { recursive: true });
    for (const file of files) {
      const target = join(staged, file.name);
      if (Buffer.isBuffer(file.content)) {
        const handle = await open(target, 'wx');
        await handle.writeFile(file.content);
        await handle.close();
      } else {
        // A reflink where the filesystem has them, a copy elsewhere: the layout must not share
        // inodes with the store, since whoever gets the directory may change it.
        await copyFile(file.content.path, target, constants.COPYFILE_FICLONE);
      }
    }
    await rename(staged, dir);
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}

/** Writes the images `refs` name; returns what was saved, with normalized names. */
export async function saveImages(store: ImageStore, refs: string[], options: SaveOptions): Promise<{ format: SaveFormat; images: Selected[] }> {
  const format = options.format ?? 'oci-archive';
  if (!SAVE_FORMATS.includes(format)) throw new ImageError('EIMAGE_REFERENCE', `unknown save format "${format}" (one of ${SAVE_FORMATS.join(', ')})`);
  const images = await select(store, refs);
  const target = typeof options.output === 'string' ? resolve(options.output) : '<stream>';
  const lease = await store.lease();
  const scratch = tempName(store.blobs.tmp, 'save');
  try {
    await lease.addBlobs(...images.flatMap(({ record }) => [record.digest, record.config, ...record.layers.map((l) => l.digest)]));
    await mkdir(scratch);
    const files = format === 'docker-archive' ? await dockerFiles(store, images, scratch) : await ociFiles(store, images);
    if (format === 'oci-dir') {
      if (typeof options.output !== 'string') throw new ImageError('EIMAGE_REFERENCE', 'oci-dir output needs a directory path');
      await writeDirectory(files, target);
    } else if (typeof options.output === 'string') {
      await writeArchiveFile(store, files, target);
    } else {
      await writeTar(store, files, options.output);
    }
    return { format, images };
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError('EIMAGE_STORE', `save ${refs.join(', ')} to ${target}: ${describeFsError(error)}`, { details: fsErrorDetails(error) });
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await lease.release();
  }
}
