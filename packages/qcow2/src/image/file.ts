// The one place that touches the image file: positioned reads and writes that loop over short transfers,
// fdatasync, and the file's current length. Every failure becomes an EIMG_IO error naming the call,
// the path and the errno.
import { open, type FileHandle } from 'node:fs/promises';
import { ioError } from '../errors.js';

export class ImageFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Current length in bytes, kept up to date by write() and truncate(). */
    public length: number,
  ) {}

  static async open(path: string, readOnly: boolean): Promise<ImageFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, readOnly ? 'r' : 'r+');
    } catch (cause) {
      throw ioError(path, readOnly ? 'open(O_RDONLY)' : 'open(O_RDWR)', cause);
    }
    try {
      const stat = await handle.stat();
      return new ImageFile(path, handle, stat.size);
    } catch (cause) {
      await handle.close().catch(() => undefined);
      throw ioError(path, 'fstat', cause);
    }
  }

  /** Creates or truncates the file to zero length. */
  static async create(path: string): Promise<ImageFile> {
    try {
      return new ImageFile(path, await open(path, 'w+'), 0);
    } catch (cause) {
      throw ioError(path, 'open(O_CREAT|O_TRUNC)', cause);
    }
  }

  /** Reads up to buf.length bytes at offset; returns how many were read (fewer only at end of file). */
  async read(buf: Uint8Array, offset: number): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      let n: number;
      try {
        ({ bytesRead: n } = await this.handle.read(buf, done, buf.length - done, offset + done));
      } catch (cause) {
        throw ioError(this.path, 'pread', cause, { offset: offset + done, length: buf.length - done });
      }
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  async write(buf: Uint8Array, offset: number): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      try {
        const { bytesWritten } = await this.handle.write(buf, done, buf.length - done, offset + done);
        done += bytesWritten;
      } catch (cause) {
        throw ioError(this.path, 'pwrite', cause, { offset: offset + done, length: buf.length - done });
      }
    }
    this.length = Math.max(this.length, offset + buf.length);
  }

  async truncate(length: number): Promise<void> {
    try {
      await this.handle.truncate(length);
    } catch (cause) {
      throw ioError(this.path, 'ftruncate', cause, { length });
    }
    this.length = length;
  }

  /** fdatasync: the ordering barrier between data/refcounts, L2 tables and the L1 table. */
  async sync(): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (cause) {
      throw ioError(this.path, 'fdatasync', cause);
    }
  }

  async close(): Promise<void> {
    try {
      await this.handle.close();
    } catch (cause) {
      throw ioError(this.path, 'close', cause);
    }
  }
}
