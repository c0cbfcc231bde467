// A layer blob as a stream of tar bytes: opens the file or stream, picks the decompressor, and hashes
// both sides on the way through (the blob's digest names it in the manifest, the tar's digest is the
// config's diff_id). Digests are only known once the tar has been read to its end; `verify` is
// called after that, by whoever decides what a mismatch undoes.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LayerError, errnoCode } from '../errors.js';
import { WorkerBlobError, readBlobInWorker, type WorkerBlobDigests } from './blob-worker.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** A path to the blob, or its bytes (a Node Readable is an AsyncIterable). */
export type BlobSource = string | AsyncIterable<Uint8Array>;

export interface BlobOptions {
  /** OCI or Docker layer media type; decides zstd up front, otherwise the bytes' magic decides. */
  mediaType?: string;
  /** Forces the decompressor; `auto` (the default) sniffs the magic bytes. */
  compression?: Compression | 'auto';
  /** `sha256:<hex>` of the blob as stored (compressed). */
  expectedDigest?: string;
  /** `sha256:<hex>` of the uncompressed tar (the config's rootfs.diff_ids entry). */
  expectedDiffId?: string;
}

export interface BlobDigests {
  compression: Compression;
  digest: string;
  diffId: string;
  blobBytes: number;
  tarBytes: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const GUNZIP_CHUNK = 1 << 20;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** Blob files from this size up are read on a worker thread (blob-worker.ts); smaller ones here. */
export const WORKER_BLOB_MIN = 1 << 20;

/** The compression a layer media type declares; undefined for a type that is not a layer. */
export function compressionOfMediaType(mediaType: string): Compression | undefined {
  if (/^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar$/.test(mediaType)) return 'none';
  if (/^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar\+gzip$/.test(mediaType)) return 'gzip';
  if (/^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar\+zstd$/.test(mediaType)) return 'zstd';
  if (/^application\/vnd\.docker\.image\.rootfs\.(foreign\.)?diff\.tar\.gzip$/.test(mediaType)) return 'gzip';
  if (mediaType === 'application/vnd.docker.image.rootfs.diff.tar') return 'none';
  return undefined;
}

export function sniffCompression(head: Uint8Array): Compression {
  const starts = (magic: number[]) => magic.every((byte, i) => head[i] === byte);
  if (starts(GZIP_MAGIC)) return 'gzip';
  if (starts(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

function zstdUnsupported(label: string): LayerError {
  return new LayerError('ELAYER_COMPRESSION', `zstd-compressed layer ${label} is not supported: Node 20 has no zstd decoder`, {
    details: { layer: label },
  });
}

/** `sha256:<hex>` → a fresh hash of that algorithm; anything else is refused before reading. */
function hashFor(expected: string | undefined, what: string): Hash {
  const algorithm = expected === undefined ? 'sha256' : expected.split(':')[0];
  if (expected !== undefined && !/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.test(expected)) {
    throw new LayerError('ELAYER_DIGEST', `expected ${what} ${JSON.stringify(expected)} is not a sha256 or sha512 digest`);
  }
  return createHash(algorithm);
}

async function* counted(source: AsyncIterable<Uint8Array>, hash: Hash, count: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    hash.update(bytes);
    count.bytes += bytes.length;
    yield bytes;
  }
}

async function* readErrorsWrapped(source: AsyncIterable<Uint8Array>, label: string): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (error) {
    if (error instanceof LayerError) throw error;
    throw new LayerError('ELAYER_READ', `read layer ${label}: ${errnoCode(error) ?? (error as Error).message}`, { cause: error });
  }
}

/** Node's zlib errors, named for what they mean to someone holding a layer. */
async function* gunzipped(source: AsyncIterable<Buffer>, label: string): AsyncGenerator<Buffer> {
  // 1 MiB out instead of zlib's 16 KiB: 64x fewer chunks through the thread pool, the hashes, the tar
  // reader and write(2) for a large file (measured: ~650 ms of a 64 MiB layer went on chunk traffic).
  const gunzip = pipeline(Readable.from(source, { objectMode: false }), createGunzip({ chunkSize: GUNZIP_CHUNK }), () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    if (error instanceof LayerError) throw error;
    const code = errnoCode(error);
    if (code === 'Z_BUF_ERROR') {
      throw new LayerError('ELAYER_TRUNCATED', `gzip stream of layer ${label} is truncated`, { cause: error });
    }
    throw new LayerError('ELAYER_COMPRESSION', `gzip stream of layer ${label} is corrupt: ${(error as Error).message}`, { cause: error });
  } finally {
    gunzip.destroy();
  }
}

/** The size and first bytes of a blob file, read synchronously (a few syscalls). */
function headOfFile(path: string, want: number, label: string): { size: number; head: Buffer } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(want, size));
    const got = readSync(fd, head, 0, head.length, 0);
    return { size, head: head.subarray(0, got) };
  } catch (error) {
    throw new LayerError('ELAYER_READ', `read layer ${label}: ${errnoCode(error) ?? (error as Error).message}`, { cause: error });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The worker's failures, named as gunzipped() and readErrorsWrapped() name their own. */
async function* workerErrorsNamed(source: AsyncIterable<Buffer>, label: string): AsyncGenerator<Buffer> {
  try {
    yield* source;
  } catch (error) {
    if (!(error instanceof WorkerBlobError)) throw error;
    const { stage, code, message } = error.failure;
    if (stage === 'read') throw new LayerError('ELAYER_READ', `read layer ${label}: ${code ?? message}`, { cause: error });
    if (code === 'Z_BUF_ERROR') throw new LayerError('ELAYER_TRUNCATED', `gzip stream of layer ${label} is truncated`, { cause: error });
    throw new LayerError('ELAYER_COMPRESSION', `gzip stream of layer ${label} is corrupt: ${message}`, { cause: error });
  }
}

/** A blob file read, hashed and decompressed on the worker thread. */
function openInWorker(path: string, compression: 'gzip' | 'none', options: BlobOptions, label: string): OpenedBlob {
  const blobAlgorithm = options.expectedDigest?.split(':')[0] ?? 'sha256';
  const tarAlgorithm = options.expectedDiffId?.split(':')[0] ?? 'sha256';
  let end: WorkerBlobDigests | undefined;
  const tar = readBlobInWorker(path, compression === 'gzip', blobAlgorithm, tarAlgorithm, (digests) => (end = digests));
  return {
    compression,
    tar: workerErrorsNamed(tar, label),
    digests() {
      if (end === undefined) throw new LayerError('ELAYER_READ', `layer ${label}: digests asked for before the blob was read to its end`);
      return { compression, digest: `${blobAlgorithm}:${end.digest}`, diffId: `${tarAlgorithm}:${end.diffId}`, blobBytes: end.blobBytes, tarBytes: end.tarBytes };
    },
  };
}

/** Separates the first bytes (for the magic) from the rest, without losing any. */
async function peek(source: AsyncIterable<Uint8Array>, want: number): Promise<{ head: Buffer; stream: AsyncIterable<Uint8Array>; close(): Promise<unknown> }> {
  const iterator = source[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let have = 0;
  while (have < want) {
    const next = await iterator.next();
    if (next.done) break;
    first.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    have += next.value.byteLength;
  }
  const head = Buffer.concat(first);
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, stream: { [Symbol.asyncIterator]: () => rest() }, close: async () => iterator.return?.() };
}

export interface OpenedBlob {
  compression: Compression;
  /** The uncompressed tar; iterate it once. */
  tar: AsyncIterable<Buffer>;
  /** Digests and sizes; complete once `tar` has been read to its end. */
  digests(): BlobDigests;
}

/** Opens `source` for reading as a tar. Throws at once for zstd and non-layer media types. */
export async function openBlob(source: BlobSource, options: BlobOptions = {}): Promise<OpenedBlob> {
  const label = options.expectedDigest ?? (typeof source === 'string' ? source : 'stream');
  let declared: Compression | undefined;
  if (options.compression !== undefined && options.compression !== 'auto') declared = options.compression;
  else if (options.mediaType !== undefined) {
    const fromType = compressionOfMediaType(options.mediaType);
    if (fromType === undefined) {
      throw new LayerError('ELAYER_COMPRESSION', `layer ${label}: media type ${JSON.stringify(options.mediaType)} is not a layer`);
    }
    // For gzip and plain tar the bytes decide: Docker's "tar.gzip" type has long been used for
    // uncompressed layers too, and containerd sniffs for the same reason.
    if (fromType === 'zstd') declared = 'zstd';
  }
  if (declared === 'zstd') throw zstdUnsupported(label);

  const blobHash = hashFor(options.expectedDigest, 'digest');
  const tarHash = hashFor(options.expectedDiffId, 'diff_id');
  if (typeof source === 'string') {
    const file = headOfFile(source, ZSTD_MAGIC.length, label);
    const sniffed = declared ?? sniffCompression(file.head);
    if (sniffed === 'zstd') throw zstdUnsupported(label);
    if (file.size >= WORKER_BLOB_MIN) return openInWorker(source, sniffed, options, label);
  }
  const raw = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  const { head, stream, close } = await peek(readErrorsWrapped(raw, label), ZSTD_MAGIC.length);
  const compression = declared ?? sniffCompression(head);
  if (compression === 'zstd') {
    await close();
    throw zstdUnsupported(label);
  }

  const blobCount = { bytes: 0 };
  const tarCount = { bytes: 0 };
  const compressed = counted(stream, blobHash, blobCount);
  const tar = counted(compression === 'gzip' ? gunzipped(compressed, label) : compressed, tarHash, tarCount);
  let digests: BlobDigests | undefined;
  return {
    compression,
    tar,
    digests() {
      digests ??= {
        compression,
        digest: `${options.expectedDigest?.split(':')[0] ?? 'sha256'}:${blobHash.digest('hex')}`,
        diffId: `${options.expectedDiffId?.split(':')[0] ?? 'sha256'}:${tarHash.digest('hex')}`,
        blobBytes: blobCount.bytes,
        tarBytes: tarCount.bytes,
      };
      return digests;
    },
  };
}

/** Throws ELAYER_DIGEST when the blob or its tar is not the one the manifest named. */
export function verifyDigests(digests: BlobDigests, options: BlobOptions): void {
  const check = (what: string, expected: string | undefined, actual: string) => {
    if (expected === undefined || expected === actual) return;
    throw new LayerError('ELAYER_DIGEST', `${what} mismatch: expected ${expected}, got ${actual}`, { details: { expected, actual } });
  };
  check('layer digest', options.expectedDigest, digests.digest);
  check(options.expectedDigest === undefined ? 'layer diff_id' : `layer ${options.expectedDigest} diff_id`, options.expectedDiffId, digests.diffId);
}
