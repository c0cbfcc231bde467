// Content-addressed blobs: `blobs/sha256/<hex>`, the same layout as an OCI image layout, so a blob's
// path is its name everywhere. A blob is written to `tmp/`, hashed on the way, fsynced, and renamed to
// its digest only when complete and verified: a name under blobs/ never points at partial or wrong
// content, whatever crashes. Reads verify again (`read`, `stream`): a disk that flipped a bit is an
// error naming the blob, not a silently different image.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageError, describeFsError, errnoCode, fsErrorDetails } from '../errors.js';
import { checkDigest, hexOf, isDigest } from './digest.js';
import { fsyncDir, tempName } from './files.js';

export interface BlobExpectation {
  digest?: string;
  size?: number;
  /** What the blob is, for messages: "layer 2 of docker.io/library/busybox:latest". */
  what?: string;
}

export interface BlobInfo {
  digest: string;
  size: number;
}

/** Called with the digest before the blob gets its name, so that a GC running meanwhile keeps it. */
export type BlobGuard = (digest: string) => Promise<void>;

export class BlobStore {
  readonly dir: string;
  readonly tmp: string;

  constructor(root: string) {
    this.dir = join(root, 'blobs', 'sha256');
    this.tmp = join(root, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await mkdir(this.tmp, { recursive: true });
  }

  path(digest: string): string {
    return join(this.dir, hexOf(checkDigest(digest)));
  }

  async has(digest: string): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async size(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Stores `source`, checking it against `expected`; returns its digest and size. */
  async put(source: Uint8Array | AsyncIterable<Uint8Array>, expected: BlobExpectation = {}, guard?: BlobGuard): Promise<BlobInfo> {
    if (expected.digest !== undefined) checkDigest(expected.digest, `digest of ${expected.what ?? 'blob'}`);
    const temp = tempName(this.tmp, 'ingest');
    const hash = createHash('sha256');
    let size = 0;
    const handle = await open(temp, 'wx', 0o644);
    try {
      if (source instanceof Uint8Array) {
        hash.update(source);
        size = source.length;
        await handle.writeFile(source);
      } else {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          await handle.write(chunk);
          if (expected.size !== undefined && size > expected.size) break;
        }
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(temp, { force: true });
      throw error;
    }
    await handle.close();
    return this.commit(temp, `sha256:${hash.digest('hex')}`, size, expected, guard);
  }

  /**
   * Gives a complete, fsynced temp file (inside `tmp/`) its content name after checking it; the temp
   * file is gone afterwards either way. For writers that hash as they go (resumable downloads).
   */
  async commit(temp: string, digest: string, size: number, expected: BlobExpectation = {}, guard?: BlobGuard): Promise<BlobInfo> {
    try {
      const what = expected.what ?? 'blob';
      if (expected.size !== undefined && size !== expected.size) {
        throw new ImageError('EIMAGE_DIGEST', `${what} ${expected.digest ?? ''}: size mismatch: expected ${expected.size} bytes, got ${size}${size > expected.size ? ' or more' : ''}`.replace('  ', ' '), {
          details: { expected: expected.size, actual: size },
        });
      }
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw new ImageError('EIMAGE_DIGEST', `${what}: digest mismatch: expected ${expected.digest}, got ${digest}`, {
          details: { expected: expected.digest, actual: digest },
        });
      }
      await guard?.(digest);
      const final = this.path(digest);
      // Already there: keep the existing file (same bytes), drop ours.
      if ((await this.size(digest)) === size) return { digest, size };
      await rename(temp, final);
      await fsyncDir(this.dir);
      return { digest, size };
    } catch (error) {
      if (error instanceof ImageError) throw error;
      throw new ImageError('EIMAGE_STORE', `store blob ${digest}: ${describeFsError(error)}`, { details: fsErrorDetails(error) });
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** The whole blob, verified against its digest. */
  async read(digest: string, what = 'blob'): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path(digest));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw missing(digest, what);
      throw new ImageError('EIMAGE_STORE', `read ${what} ${digest}: ${describeFsError(error)}`, { details: fsErrorDetails(error) });
    }
    verify(digest, createHash('sha256').update(bytes).digest('hex'), what);
    return bytes;
  }

  /** The blob as a stream; throws EIMAGE_DIGEST at the end if the bytes do not match. */
  async *stream(digest: string, what = 'blob'): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(this.path(digest), { highWaterMark: 1 << 20 })) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw missing(digest, what);
      throw error;
    }
    verify(digest, hash.digest('hex'), what);
  }

  async list(): Promise<string[]> {
    return (await readdir(this.dir)).map((hex) => `sha256:${hex}`).filter(isDigest);
  }

  async delete(digest: string): Promise<void> {
    try {
      await unlink(this.path(digest));
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
}

function missing(digest: string, what: string): ImageError {
  return new ImageError('EIMAGE_MISSING_BLOB', `${what} ${digest} is not in the store`, { details: { digest } });
}

function verify(digest: string, actualHex: string, what: string): void {
  if (hexOf(digest) === actualHex) return;
  throw new ImageError('EIMAGE_DIGEST', `${what} ${digest} is corrupt in the store: its content hashes to sha256:${actualHex}`, {
    details: { digest, actual: `sha256:${actualHex}` },
  });
}
