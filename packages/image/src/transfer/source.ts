// The files of an image being loaded, whatever they came in: an OCI layout directory, or a tar
// archive (OCI archive, docker save) read once from start to end. Archive entries named like OCI
// blobs (`blobs/sha256/<hex>`) go straight into the blob store, verified against that name as they
// stream; other big files go in unverified (their digest is computed, docker-archive layers have no
// name to check); small ones (manifests, configs, index.json) stay in memory.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { ImageError, errnoCode } from '../errors.js';
import { normalizeLayerPath } from '../layer/path.js';
import { readTar } from '../tar/reader.js';
import type { BlobExpectation, BlobInfo } from '../store/blobs.js';
import { hexOf } from '../store/digest.js';
import type { Lease } from '../store/leases.js';
import type { ImageStore } from '../store/store.js';

const IN_MEMORY_LIMIT = 1 << 20;
/**
 * Bytes of small files kept in memory in all: an archive of a hundred thousand 1 MiB files would
 * otherwise exhaust memory. Small files past it go into the store like big ones.
 */
const IN_MEMORY_TOTAL = 64 << 20;
/**
 * Most files outside blobs/ put in the store. docker save writes a few per layer; each one costs a
 * store write and a lease update, so an archive of a million small files must end, not grind on.
 */
const STORED_OTHER_MAX = 10_000;
const OCI_BLOB = /^blobs\/sha256\/([0-9a-f]{64})$/;

export interface SourceFiles {
  /** Where the files came from, for messages. */
  readonly label: string;
  /** A small file's bytes, or undefined when there is no such file. */
  text(name: string): Promise<Buffer | undefined>;
  /** Puts the file into the blob store (checked against `expected`) and says what it is. */
  blob(name: string, expected?: BlobExpectation): Promise<BlobInfo>;
}

export function ociBlobName(digest: string): string {
  return `blobs/sha256/${hexOf(digest)}`;
}

function missingFile(label: string, name: string): ImageError {
  return new ImageError('EIMAGE_FORMAT', `${label}: ${name} is missing`, { details: { name } });
}

export class DirectoryFiles implements SourceFiles {
  constructor(
    readonly label: string,
    private readonly dir: string,
    private readonly store: ImageStore,
    private readonly lease: Lease,
  ) {}

  async text(name: string): Promise<Buffer | undefined> {
    try {
      const handle = await open(join(this.dir, normalizeLayerPath(name, name)), 'r');
      try {
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async blob(name: string, expected: BlobExpectation = {}): Promise<BlobInfo> {
    if (expected.digest !== undefined && expected.size !== undefined && (await this.store.blobs.size(expected.digest)) === expected.size) {
      await this.lease.addBlobs(expected.digest);
      return { digest: expected.digest, size: expected.size };
    }
    const path = join(this.dir, normalizeLayerPath(name, name));
    let handle;
    try {
      // Opened first: a stream that fails to open before anyone listens is an uncaught error.
      handle = await open(path, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw missingFile(this.label, name);
      throw error;
    }
    try {
      return await this.store.blobs.put(handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false }), { what: `${this.label} ${name}`, ...expected }, (d) => this.lease.addBlobs(d));
    } finally {
      await handle.close();
    }
  }
}

interface ArchiveFile {
  bytes?: Buffer;
  stored?: BlobInfo;
}

export class ArchiveFiles implements SourceFiles {
  private readonly files = new Map<string, ArchiveFile>();
  private readonly links = new Map<string, string>();
  private inMemory = 0;
  private storedOther = 0;

  private constructor(
    readonly label: string,
    private readonly store: ImageStore,
    private readonly lease: Lease,
  ) {}

  /** Reads the whole archive (gzip-compressed or not). */
  static async read(label: string, source: AsyncIterable<Uint8Array>, store: ImageStore, lease: Lease): Promise<ArchiveFiles> {
    const files = new ArchiveFiles(label, store, lease);
    await files.consume(source);
    return files;
  }

  names(): string[] {
    return [...this.files.keys()];
  }

  private async consume(source: AsyncIterable<Uint8Array>): Promise<void> {
    const iterator = source[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) throw new ImageError('EIMAGE_FORMAT', `${this.label}: empty input, not an image archive`);
    const head = first.value;
    async function* all(): AsyncGenerator<Uint8Array> {
      yield head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    }
    const gzipped = head[0] === 0x1f && head[1] === 0x8b;
    const stream: AsyncIterable<Uint8Array> = gzipped ? Readable.from(all()).pipe(createGunzip()) : all();
    try {
      await this.consumeTar(stream);
    } catch (error) {
      throw this.archiveError(error);
    }
  }

  /**
   * The archive's name on a failure of the tar or gzip stream ("x.tar: tar truncated: ..."), which
   * otherwise says neither which input it was nor (gzip's "unexpected end of file") what failed.
   */
  private archiveError(error: unknown): unknown {
    if (error instanceof ImageError || !(error instanceof Error)) return error; // already names the file
    const zlib = typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).code!.startsWith('Z_');
    const message = `${this.label}: ${zlib ? 'gzip: ' : ''}${error.message}`;
    return new ImageError('EIMAGE_FORMAT', message, { cause: error, details: { reason: (error as { code?: string }).code } });
  }

  private async consumeTar(stream: AsyncIterable<Uint8Array>): Promise<void> {
    for await (const entry of readTar(stream)) {
      const { header } = entry;
      const name = normalizeLayerPath(header.name, header.name);
      if (header.type === 'symlink') {
        // docker save links a layer shared by two images: `<id>/layer.tar -> ../<other>/layer.tar`.
        const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '';
        this.links.set(name, normalizeLayerPath(header.linkname.startsWith('/') ? header.linkname : dir + header.linkname, name));
        continue;
      }
      if (header.type !== 'file') continue;
      const blobName = OCI_BLOB.exec(name);
      const guard = (d: string) => this.lease.addBlobs(d);
      if (blobName) {
        const stored = await this.store.blobs.put(entry.body(), { digest: `sha256:${blobName[1]}`, size: header.size, what: `${this.label} ${name}` }, guard);
        this.files.set(name, { stored });
      } else if (header.size <= IN_MEMORY_LIMIT && this.inMemory + header.size <= IN_MEMORY_TOTAL) {
        this.inMemory += header.size;
        const parts: Buffer[] = [];
        for await (const part of entry.body()) parts.push(part);
        this.files.set(name, { bytes: Buffer.concat(parts) });
      } else {
        if (++this.storedOther > STORED_OTHER_MAX) {
          throw new ImageError('EIMAGE_FORMAT', `${this.label}: more than ${STORED_OTHER_MAX} files outside blobs/ (at ${name}): not an image archive`);
        }
        this.files.set(name, { stored: await this.store.blobs.put(entry.body(), { size: header.size, what: `${this.label} ${name}` }, guard) });
      }
    }
  }

  private find(name: string): ArchiveFile | undefined {
    let key = normalizeLayerPath(name, name);
    for (let hops = 0; hops < 16 && this.links.has(key); hops++) key = this.links.get(key)!;
    return this.files.get(key);
  }

  async text(name: string): Promise<Buffer | undefined> {
    const file = this.find(name);
    if (file === undefined) return undefined;
    return file.bytes ?? this.store.blobs.read(file.stored!.digest, `${this.label} ${name}`);
  }

  async blob(name: string, expected: BlobExpectation = {}): Promise<BlobInfo> {
    const file = this.find(name);
    if (file === undefined) throw missingFile(this.label, name);
    const what = `${this.label} ${name}`;
    if (file.bytes !== undefined) return this.store.blobs.put(file.bytes, { what, ...expected }, (d) => this.lease.addBlobs(d));
    const stored = file.stored!;
    if (expected.digest !== undefined && expected.digest !== stored.digest) {
      throw new ImageError('EIMAGE_DIGEST', `${what}: digest mismatch: expected ${expected.digest}, got ${stored.digest}`);
    }
    if (expected.size !== undefined && expected.size !== stored.size) {
      throw new ImageError('EIMAGE_DIGEST', `${what}: size mismatch: expected ${expected.size} bytes, got ${stored.size}`);
    }
    return stored;
  }
}
