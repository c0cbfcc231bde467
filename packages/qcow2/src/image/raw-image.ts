// A raw image: the file is the disk. Here so raw disks and backing files sit behind the same Image
// interface as qcow2 ones.
import { imageError } from '../errors.js';
import { ImageFile } from './file.js';
import { type Extent, type Image, type RawInfo, Gate, checkAccess } from './image.js';

const ZERO_CHUNK = 1024 * 1024;

export class RawImage implements Image {
  readonly format = 'raw';
  readonly backing = undefined;
  private readonly serial = new Gate();
  private closed = false;

  private constructor(
    private readonly file: ImageFile,
    readonly readOnly: boolean,
    public size: number,
  ) {}

  get path(): string {
    return this.file.path;
  }

  static async open(path: string, readOnly: boolean, direct = false): Promise<RawImage> {
    const file = await ImageFile.open(path, readOnly, { direct });
    return new RawImage(file, readOnly, file.length);
  }

  read(buf: Uint8Array, offset: number): Promise<void> {
    return this.counted(() =>
      this.serial.shared(async () => {
        this.checkOpen();
        checkAccess(this, 'read', buf, offset);
        const n = await this.file.read(buf, offset);
        buf.fill(0, n); // the file shrank under us: read the missing tail as zeros, as qemu does
      }),
    );
  }

  /** Counts a guest request as in flight on the file, for its choice of inline I/O. */
  private async counted<T>(op: () => Promise<T>): Promise<T> {
    this.file.active++;
    try {
      return await op();
    } finally {
      this.file.active--;
    }
  }

  // Writes to a raw file touch no metadata: they may run concurrently like reads (qemu does the same).
  write(buf: Uint8Array, offset: number): Promise<void> {
    return this.counted(() =>
      this.serial.shared(async () => {
        this.checkOpen();
        checkAccess(this, 'write', buf, offset);
        await this.file.write(buf, offset);
      }),
    );
  }

  /**
   * Holes in the file read as zeros: 'zero', as qemu's file driver reports them (SEEK_DATA/SEEK_HOLE);
   * the rest is data. Both lie at the same offset in the file.
   */
  async status(offset: number, length: number): Promise<Extent[]> {
    this.checkOpen();
    checkAccess(this, 'read', new Uint8Array(0), offset, length);
    return (await this.file.allocation(offset, length)).map((r) => ({ start: r.start, length: r.length, kind: r.data ? 'data' : 'zero', offset: r.start }));
  }

  writeZeroes(offset: number, length: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      checkAccess(this, 'write', new Uint8Array(0), offset, length);
      if (await this.file.deallocate(offset, length, 'zero')) return;
      const chunk = new Uint8Array(Math.min(length, ZERO_CHUNK));
      for (let at = offset; at < offset + length; at += chunk.length) {
        await this.file.write(chunk.subarray(0, Math.min(chunk.length, offset + length - at)), at);
      }
    });
  }

  /**
   * Gives the range's blocks back to the file system (a hole, reading as zeros), as qemu's file driver
   * does for a guest's discard; where the file system cannot punch holes, a discard does nothing (it is
   * a hint: the guest no longer cares what the range holds).
   */
  discard(offset: number, length: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      checkAccess(this, 'write', new Uint8Array(0), offset, length);
      await this.file.deallocate(offset, length, 'punch');
    });
  }

  resize(size: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      if (this.readOnly) throw imageError('EIMG_READ_ONLY', this.path, 'image is open read-only');
      if (!Number.isSafeInteger(size) || size < 0) throw imageError('EIMG_BAD_OPTION', this.path, `new size ${size} is not a non-negative integer`);
      const chunk = new Uint8Array(ZERO_CHUNK);
      for (let at = size; at < this.size; at += chunk.length) {
        const n = await this.file.read(chunk, at);
        const nonzero = chunk.subarray(0, n).findIndex((b) => b !== 0);
        if (nonzero >= 0) {
          throw imageError('EIMG_WOULD_LOSE_DATA', this.path, `cannot shrink to ${size} bytes: offset ${at + nonzero} holds data`, { size, offset: at + nonzero });
        }
      }
      await this.file.truncate(size);
      this.size = size;
    });
  }

  flush(): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      if (!this.readOnly) await this.file.sync();
    });
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      if (this.closed) return;
      this.closed = true;
      if (!this.readOnly) await this.file.sync();
      await this.file.close();
    });
  }

  /** A buffer this image transfers without copying (aligned when opened direct). */
  allocBuffer(size: number): Promise<Buffer> {
    return this.file.allocBuffer(size);
  }

  info(): RawInfo {
    return { format: 'raw', path: this.path, virtualSize: this.size };
  }

  private checkOpen(): void {
    if (this.closed) throw imageError('EIMG_CLOSED', this.path, 'image is closed');
  }
}
