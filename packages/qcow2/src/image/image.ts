// What every image format offers its users (the VMM block device, the CLI, converters): byte-addressed
// reads and writes of the virtual disk, flush and close, and a description for `isola img info`.
import { imageError } from '../errors.js';
import type { Snapshot } from '../format/snapshot.js';

export type ImageFormat = 'qcow2' | 'raw';

export interface Image {
  readonly path: string;
  readonly format: ImageFormat;
  /** Virtual disk size in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** The opened backing image, if any (owned: closed with this one). */
  readonly backing: Image | undefined;
  /** Fills buf with the disk's bytes at offset; the range must lie inside the disk. */
  read(buf: Uint8Array, offset: number): Promise<void>;
  write(buf: Uint8Array, offset: number): Promise<void>;
  /** Makes [offset, offset + length) read as zeros, deallocating whole clusters where the format can. */
  writeZeroes(offset: number, length: number): Promise<void>;
  /**
   * Gives back the storage of whole clusters in the range (partial ones are left alone); their content
   * afterwards is zeros, or the backing file's where zero clusters are not available (qcow2 v2).
   */
  discard(offset: number, length: number): Promise<void>;
  /** Grows the disk (new space reads as zeros), or shrinks it when nothing is stored past the new end. */
  resize(size: number): Promise<void>;
  /** What this image itself (not its backing chain) holds for [offset, offset + length), in order. */
  status(offset: number, length: number): Promise<Extent[]>;
  /** A buffer that reads and writes of this image use without an extra copy (aligned under O_DIRECT). */
  allocBuffer(size: number): Promise<Buffer>;
  /** Makes every completed write durable. */
  flush(): Promise<void>;
  /** Flushes (when writable) and closes this image and its backing chain. */
  close(): Promise<void>;
  info(): ImageInfo;
}

/**
 * A run of the disk as one image stores it: 'data' (offset: where in the file, when the bytes lie there
 * as they are, i.e. not compressed), 'zero' (reads as zeros without data) or 'unallocated' (the backing
 * file shows through).
 */
export interface Extent {
  start: number;
  length: number;
  kind: 'data' | 'zero' | 'unallocated';
  offset?: number;
}

/** Appends an extent, merging it into the previous one when they continue each other. */
export function appendExtent(extents: Extent[], e: Extent): void {
  const last = extents[extents.length - 1];
  if (
    last !== undefined &&
    last.kind === e.kind &&
    last.start + last.length === e.start &&
    (last.offset === undefined) === (e.offset === undefined) &&
    (last.offset === undefined || last.offset + last.length === e.offset)
  ) {
    last.length += e.length;
  } else {
    extents.push({ ...e });
  }
}

export interface RawInfo {
  format: 'raw';
  path: string;
  virtualSize: number;
}

export interface Qcow2Info {
  format: 'qcow2';
  path: string;
  virtualSize: number;
  version: 2 | 3;
  clusterSize: number;
  refcountBits: number;
  extendedL2: boolean;
  compressionType: 'zlib' | 'zstd';
  backingFile: string | undefined;
  backingFormat: string | undefined;
  /** The external data file's name as stored, when data clusters live there. */
  dataFile: string | undefined;
  /** The data file is also a raw image of the disk (qemu's data_file_raw). */
  dataFileRaw: boolean;
  /** Names of the feature bits set, e.g. ["lazy refcounts"]. */
  features: string[];
  lazyRefcounts: boolean;
  dirty: boolean;
  corrupt: boolean;
  snapshots: Snapshot[];
  /** The backing image's info, recursively. */
  backing: ImageInfo | undefined;
}

export type ImageInfo = RawInfo | Qcow2Info;

/** Shared argument checks for read/write, so both formats reject the same misuse with the same code. */
export function checkAccess(
  image: Pick<Image, 'path' | 'size' | 'readOnly'>,
  op: 'read' | 'write',
  buf: Uint8Array,
  offset: number,
  length = buf.length,
): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > image.size) {
    throw imageError('EIMG_OUT_OF_RANGE', image.path, `${op} of ${length} bytes at ${offset} is outside the ${image.size}-byte disk`, {
      offset,
      length,
      size: image.size,
    });
  }
  if (op === 'write' && image.readOnly) throw imageError('EIMG_READ_ONLY', image.path, 'image is open read-only');
}

/**
 * Orders an image's operations: exclusive ones (writes, metadata updates) run alone, in arrival
 * order; shared ones (reads) run concurrently with each other, but never overtake an exclusive one
 * queued before them. Concurrent reads are what lets a queue depth above one reach the disk in
 * parallel. A counter and a queue, not a chain of promises: a chain costs a promise per operation.
 */
export class Gate {
  private shareds = 0;
  private exclusive = false;
  private readonly queue: { exclusive: boolean; start: () => void }[] = [];

  run<T>(op: () => Promise<T>): Promise<T> {
    return this.enter(true, op);
  }

  shared<T>(op: () => Promise<T>): Promise<T> {
    return this.enter(false, op);
  }

  private enter<T>(exclusive: boolean, op: () => Promise<T>): Promise<T> {
    if (this.queue.length === 0 && !this.exclusive && (!exclusive || this.shareds === 0)) return this.start(exclusive, op);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ exclusive, start: () => void this.start(exclusive, op).then(resolve, reject) });
    });
  }

  private async start<T>(exclusive: boolean, op: () => Promise<T>): Promise<T> {
    if (exclusive) this.exclusive = true;
    else this.shareds++;
    try {
      return await op();
    } finally {
      if (exclusive) this.exclusive = false;
      else this.shareds--;
      this.pump();
    }
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.exclusive) {
      const head = this.queue[0];
      if (head.exclusive && this.shareds > 0) return;
      this.queue.shift();
      head.start();
      if (head.exclusive) return;
    }
  }
}
