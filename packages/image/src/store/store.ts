// The image store: blobs by digest, image records and tags, unpacked layers by chain ID, leases, and
// the lock that lets two isola processes share it. Layout under `<root>/image/`:
//
//   blobs/sha256/<hex>      content-addressed blobs (manifests, configs, layers, indexes)
//   layers/sha256/<hex>     unpacked layers by chain ID (overlay lowerdirs, see layers.ts)
//   leases/<name>.json      what running operations and mounted rootfs hold on to (leases.ts)
//   tmp/                    blobs being written
//   images.json             image records and tags (metadata.ts)
//   lock                    the store lock (lock.ts)
//
// Blobs are written without the lock (content addressing makes concurrent writers of the same blob
// harmless); every change to images.json, and GC, happens under it.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { ImageError } from '../errors.js';
import { BlobStore } from './blobs.js';
import { chainIds, shortId } from './digest.js';
import { collectGarbage, type GcResult } from './gc.js';
import { LayerStore, type LayerStack } from './layers.js';
import { Leases, type Lease } from './leases.js';
import { StoreLock } from './lock.js';
import { readMetadata, tagsOf, writeMetadata, type ImageRecord, type Metadata } from './metadata.js';
import { MediaType, parseConfig, parseManifest, type ImageConfig, type ImageManifest } from './oci.js';
import { familiarName, formatReference, normalizeTag, parseReference, repositoryOf } from './reference.js';

export interface StoreOptions {
  /** isola's state directory; `defaultStoreRoot()` when absent. The image store is `<root>/image`. */
  root?: string;
  lockTimeoutMs?: number;
}

/** `$ISOLA_ROOT`; else /var/lib/isola for root, `$XDG_DATA_HOME/isola` (~/.local/share/isola) for others. */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ISOLA_ROOT) return resolve(env.ISOLA_ROOT);
  if (process.getuid?.() === 0) return '/var/lib/isola';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'isola');
}

export interface ImageSummary {
  /** Config digest (IMAGE ID). */
  id: string;
  /** Manifest digest. */
  digest: string;
  /** Normalized `repository:tag` names. */
  names: string[];
  size: number;
  created?: string;
  added: string;
}

export interface AddImageOptions {
  /** Tags to point at the image (normalized here); a tag on another image moves. */
  names?: string[];
  /** An index the manifest was picked from, kept alongside. */
  index?: string;
  repoDigests?: string[];
}

export interface Resolved {
  record: ImageRecord;
  /** The normalized tag the text named, when it named one. */
  tag?: string;
}

export interface RemoveResult {
  untagged: string[];
  /** Manifest digests of image records removed. */
  deleted: string[];
  gc: GcResult;
}

export class ImageStore {
  readonly root: string;
  readonly dir: string;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly leases: Leases;
  readonly lock: StoreLock;
  private readonly metadataPath: string;
  private readonly lockTimeoutMs?: number;

  private constructor(options: StoreOptions) {
    this.root = resolve(options.root ?? defaultStoreRoot());
    this.dir = join(this.root, 'image');
    this.blobs = new BlobStore(this.dir);
    this.layers = new LayerStore(this.dir, this.blobs);
    this.leases = new Leases(join(this.dir, 'leases'));
    this.lock = new StoreLock(join(this.dir, 'lock'));
    this.metadataPath = join(this.dir, 'images.json');
    this.lockTimeoutMs = options.lockTimeoutMs;
  }

  static async open(options: StoreOptions = {}): Promise<ImageStore> {
    const store = new ImageStore(options);
    try {
      await mkdir(store.dir, { recursive: true, mode: 0o700 });
      await store.blobs.init();
      await store.leases.init();
    } catch (error) {
      throw new ImageError('EIMAGE_STORE', `open the image store at ${store.dir}`, { cause: error });
    }
    return store;
  }

  /** Runs `fn` holding the store lock. */
  locked<T>(fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    return this.lock.with(fn, { timeoutMs: options.timeoutMs ?? this.lockTimeoutMs });
  }

  /** Reads and changes images.json under the lock; `fn` mutates the object it is given. */
  private async update<T>(fn: (metadata: Metadata) => Promise<T> | T): Promise<T> {
    return this.locked(async () => {
      const metadata = await readMetadata(this.metadataPath);
      const result = await fn(metadata);
      await writeMetadata(this.metadataPath, metadata);
      return result;
    });
  }

  /** A snapshot of images.json (read without the lock: it is only ever replaced whole). */
  async metadata(): Promise<Metadata> {
    return readMetadata(this.metadataPath);
  }

  async readManifest(digest: string, what = 'image manifest'): Promise<ImageManifest> {
    return parseManifest(await this.blobs.read(digest, what), `${what} ${digest}`);
  }

  async readConfig(record: Pick<ImageRecord, 'config'>): Promise<ImageConfig> {
    return parseConfig(await this.blobs.read(record.config, 'image config'), `image config ${record.config}`);
  }

  /** A lease for an operation of this process (pull, load): blobs it writes are safe from GC. */
  lease(options: { name?: string; persistent?: boolean } = {}): Promise<Lease> {
    return this.leases.create(options);
  }

  /**
   * Records the image whose manifest is already in the blob store: reads the manifest and config
   * back (verifying both), checks that every layer blob is present at its size, then under the lock
   * stores the record and moves the tags to it.
   */
  async addImage(manifestDigest: string, options: AddImageOptions = {}): Promise<ImageRecord> {
    const manifestBytes = await this.blobs.read(manifestDigest, 'image manifest');
    const manifest = parseManifest(manifestBytes, `image manifest ${manifestDigest}`);
    const configBytes = await this.blobs.read(manifest.config.digest, 'image config');
    const config = parseConfig(configBytes, `image config ${manifest.config.digest}`);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new ImageError('EIMAGE_FORMAT', `image ${manifestDigest}: ${manifest.layers.length} layers in the manifest, ${config.rootfs.diff_ids.length} diff_ids in the config`);
    }
    let size = manifestBytes.length + configBytes.length;
    for (const [i, layer] of manifest.layers.entries()) {
      const stored = await this.blobs.size(layer.digest);
      if (stored === undefined) {
        throw new ImageError('EIMAGE_MISSING_BLOB', `image ${manifestDigest}: layer ${i + 1} (${layer.digest}) is not in the store`, { details: { digest: layer.digest } });
      }
      if (stored !== layer.size) {
        throw new ImageError('EIMAGE_DIGEST', `image ${manifestDigest}: layer ${i + 1} (${layer.digest}) is ${stored} bytes in the store, the manifest says ${layer.size}`);
      }
      size += layer.size;
    }
    const names = (options.names ?? []).map(normalizeTag);
    return this.update((metadata) => {
      const old = metadata.images[manifestDigest];
      const record: ImageRecord = {
        digest: manifestDigest,
        manifestMediaType: manifest.mediaType ?? MediaType.manifest,
        config: manifest.config.digest,
        layers: manifest.layers.map(({ mediaType, digest, size: s }) => ({ mediaType, digest, size: s })),
        diffIds: config.rootfs.diff_ids,
        size,
        created: config.created,
        architecture: config.architecture,
        os: config.os,
        added: old?.added ?? new Date().toISOString(),
        index: options.index ?? old?.index,
        repoDigests: [...new Set([...(old?.repoDigests ?? []), ...(options.repoDigests ?? [])])].sort(),
      };
      metadata.images[manifestDigest] = record;
      for (const name of names) metadata.tags[name] = manifestDigest;
      return record;
    });
  }

  async images(): Promise<ImageSummary[]> {
    const metadata = await this.metadata();
    return Object.values(metadata.images)
      .map((r) => ({ id: r.config, digest: r.digest, names: tagsOf(metadata, r.digest), size: r.size, created: r.created, added: r.added }))
      .sort((a, b) => (b.created ?? b.added).localeCompare(a.created ?? a.added) || a.digest.localeCompare(b.digest));
  }

  /**
   * The image `text` names: a tag (`busybox`, `host:5000/app:v1`), `name@digest`, a manifest or
   * config digest, or a unique prefix of an IMAGE ID, looked up in that order (as docker does).
   */
  async resolve(text: string, metadata?: Metadata): Promise<Resolved> {
    if (text.trim() === '') throw new ImageError('EIMAGE_REFERENCE', 'invalid image reference "": the name is empty');
    const md = metadata ?? (await this.metadata());
    let ref;
    try {
      ref = parseReference(text);
    } catch {
      ref = undefined;
    }
    if (ref?.digest !== undefined) {
      const record = md.images[ref.digest] ?? Object.values(md.images).find((r) => r.index === ref.digest);
      if (record) return { record };
    } else if (ref?.tag !== undefined) {
      const tag = `${repositoryOf(ref)}:${ref.tag}`;
      const digest = md.tags[tag];
      if (digest !== undefined && md.images[digest]) return { record: md.images[digest], tag };
    }
    const hex = text.startsWith('sha256:') ? text.slice(7) : text;
    if (/^[0-9a-f]{1,64}$/.test(hex)) {
      const matches = Object.values(md.images).filter((r) => r.config.slice(7).startsWith(hex) || (hex.length === 64 && r.digest.slice(7) === hex));
      const ids = new Set(matches.map((r) => r.config));
      if (ids.size > 1) throw new ImageError('EIMAGE_REFERENCE', `image ID prefix "${text}" is ambiguous: ${[...ids].map(shortId).join(', ')}`);
      if (matches.length > 0) return { record: matches[0] };
    }
    const lookedFor = ref ? formatReference(ref) : text;
    throw new ImageError('EIMAGE_NOT_FOUND', `image "${text}" not found in ${this.dir} (looked for ${lookedFor}${/^[0-9a-f]+$/.test(hex) ? ' and image IDs' : ''})`, {
      details: { reference: text, store: this.dir },
    });
  }

  async tag(source: string, target: string): Promise<string> {
    const name = normalizeTag(target);
    return this.update(async (metadata) => {
      const { record } = await this.resolve(source, metadata);
      metadata.tags[name] = record.digest;
      return name;
    });
  }

  /**
   * `isola rmi`: a tag is removed; the image goes with its last tag. An ID or digest removes the
   * image, which needs `force` when it has several tags (as docker asks for -f). Blobs and layers
   * no other image uses are then deleted.
   */
  async remove(texts: string[], options: { force?: boolean } = {}): Promise<RemoveResult> {
    const result = await this.update(async (metadata) => {
      const untagged: string[] = [];
      const deleted: string[] = [];
      for (const text of texts) {
        const { record, tag } = await this.resolve(text, metadata);
        const tags = tagsOf(metadata, record.digest);
        if (tag !== undefined && tags.length > 1) {
          delete metadata.tags[tag];
          untagged.push(tag);
          continue;
        }
        if (tag === undefined && tags.length > 1 && !options.force) {
          throw new ImageError('EIMAGE_IN_USE', `image ${shortId(record.config)} has several tags (${tags.map(familiarName).join(', ')}): remove them by name, or use --force`);
        }
        // As docker: a container's rootfs keeps its layers either way, but the image goes only with --force.
        const users = options.force ? [] : await this.leases.persistentHolders(record.digest);
        if (users.length > 0) {
          const containers = users.map((u) => u.replace(/^container-/, '').slice(0, 12));
          throw new ImageError('EIMAGE_IN_USE', `unable to remove image "${text}": container ${containers.join(', ')} uses it (remove the container first, or use --force)`, { details: { containers } });
        }
        for (const t of tags) {
          delete metadata.tags[t];
          untagged.push(t);
        }
        delete metadata.images[record.digest];
        deleted.push(record.digest);
      }
      return { untagged, deleted };
    });
    return { ...result, gc: await this.gc() };
  }

  /** Removes untagged images (all unused ones with `all`), then collects garbage. */
  async prune(options: { all?: boolean } = {}): Promise<{ deleted: string[]; gc: GcResult }> {
    const deleted = await this.update(async (metadata) => {
      const tagged = new Set(Object.values(metadata.tags));
      // As docker's `image prune -a`: an image a container was made from stays (rmi says the same).
      const inUse = await this.leases.persistentBlobs();
      const out: string[] = [];
      for (const digest of Object.keys(metadata.images)) {
        if (inUse.has(digest)) continue;
        if (options.all || !tagged.has(digest)) {
          for (const t of tagsOf(metadata, digest)) delete metadata.tags[t];
          delete metadata.images[digest];
          out.push(digest);
        }
      }
      return out;
    });
    return { deleted, gc: await this.gc() };
  }

  /** Deletes every blob and layer directory no image record or live lease refers to. */
  gc(): Promise<GcResult> {
    return this.locked(async () => collectGarbage(this, await this.metadata()));
  }

  /**
   * Ends an operation's lease and deletes the blobs it stored (`stored`, by default all it holds) that
   * no image record and no other live lease uses: what a failed pull or load brought, or the files of an
   * archive no image refers to. Nothing else in the store is swept. Never throws: where the store is busy
   * (its lock held by another process) or anything fails, those blobs are left for `isola image prune`.
   */
  async dropLease(lease: Lease, stored: Iterable<string> = lease.blobs): Promise<void> {
    const held = new Set(stored);
    await lease.release().catch(() => undefined);
    if (held.size === 0) return;
    await this.locked(async () => collectGarbage(this, await this.metadata(), held), { timeoutMs: 2000 }).catch(() => undefined);
  }

  /** The image's layers unpacked by chain ID (root only), the lease keeping them while in use. */
  async layerStack(record: ImageRecord, lease?: Lease): Promise<LayerStack> {
    await lease?.addLayers(...chainIds(record.diffIds));
    await lease?.addBlobs(record.digest, record.config, ...record.layers.map((l) => l.digest));
    return this.layers.ensure(record.layers, record.diffIds, `image ${shortId(record.config)}`);
  }
}
