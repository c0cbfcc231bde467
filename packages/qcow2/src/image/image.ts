// What every image format offers its users (the VMM block device, the CLI, converters): byte-addressed
// reads and writes of the virtual disk, flush and close, and a description for `isola img info`.
import { imageError } from '../errors.js';

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
  /** Makes every completed write durable. */
  flush(): Promise<void>;
  /** Flushes (when writable) and closes this image and its backing chain. */
  close(): Promise<void>;
  info(): ImageInfo;
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
  compressionType: 'zlib';
  backingFile: string | undefined;
  backingFormat: string | undefined;
  /** Names of the feature bits set, e.g. ["lazy refcounts"]. */
  features: string[];
  dirty: boolean;
  corrupt: boolean;
  snapshots: number;
  /** The backing image's info, recursively. */
  backing: ImageInfo | undefined;
}

export type ImageInfo = RawInfo | Qcow2Info;

/** Shared argument checks for read/write, so both formats reject the same misuse with the same code. */
export function checkAccess(image: Pick<Image, 'path' | 'size' | 'readOnly'>, op: 'read' | 'write', buf: Uint8Array, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + buf.length > image.size) {
    throw imageError('EIMG_OUT_OF_RANGE', image.path, `${op} of ${buf.length} bytes at ${offset} is outside the ${image.size}-byte disk`, {
      offset,
      length: buf.length,
      size: image.size,
    });
  }
  if (op === 'write' && image.readOnly) throw imageError('EIMG_READ_ONLY', image.path, 'image is open read-only');
}

/** Runs async operations one at a time: metadata updates must not interleave. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
