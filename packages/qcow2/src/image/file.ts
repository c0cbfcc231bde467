// The one place that touches the image file: positioned reads and writes that loop over short transfers,
// fdatasync, and the file's current length. Every failure becomes an EIMG_IO error naming the call,
// the path and the errno.
//
// With `direct` the file is opened O_DIRECT (qemu's cache=none): transfers must start and end on the
// device's block size and use memory the kernel accepts (aligned.ts). Callers on the hot path pass such
// buffers (allocBuffer); anything else (metadata, odd offsets) bounces through an aligned buffer, and
// an unaligned write becomes read-modify-write of the blocks it touches.
import { constants, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ioError } from '../errors.js';
import { allocDirect, isDirectReady } from './aligned.js';
import { IoQueue } from './io-queue.js';

/** Whether a failed fallocate means the file system lacks the mode (rather than a real failure). */
function unsupported(cause: unknown): boolean {
  const errno = (cause as { code?: unknown }).code;
  return errno === 'EOPNOTSUPP' || errno === 'ENOTSUP' || errno === 'ENOSYS';
}

/** @isola/sys/files, loaded on first use (koffi and the file syscall bindings: ~30 ms). */
type Syscalls = typeof import('@isola/sys/files');
let syscalls: Promise<Syscalls> | undefined;
const loadSyscalls = (): Promise<Syscalls> => (syscalls ??= import('@isola/sys/files'));

export interface FileOptions {
  /** O_DIRECT: bypass the page cache. */
  direct?: boolean;
}

export class ImageFile {
  /** Transfer granularity under O_DIRECT (0 when not direct). */
  private block = 0;
  /** A second descriptor without O_DIRECT, for metadata writes (writeMetadata). */
  private buffered: FileHandle | undefined;
  /**
   * Guest requests the image using this file has in flight (images count them): with one, transfers
   * run inline instead of through the thread pool (see io-queue.ts).
   */
  active = 0;
  private readonly bounces: Buffer[] = [];
  private readonly io: IoQueue;
  /** fallocate(2) once allocateAhead() loaded it; null where the file system has none. */
  private fallocate: Syscalls['fallocate'] | null | undefined;
  /** Where allocateFor has allocated up to, and how far ahead it allocates (0: each write's range only). */
  private allocated = 0;
  private allocateStep = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Current length in bytes, kept up to date by write() and truncate(). */
    public length: number,
  ) {
    this.io = new IoQueue(handle.fd);
  }

  static async open(path: string, readOnly: boolean, options: FileOptions = {}): Promise<ImageFile> {
    let handle: FileHandle;
    const flags = (readOnly ? constants.O_RDONLY : constants.O_RDWR) | (options.direct ? constants.O_DIRECT : 0);
    const call = `open(${readOnly ? 'O_RDONLY' : 'O_RDWR'}${options.direct ? '|O_DIRECT' : ''})`;
    try {
      handle = await open(path, flags);
    } catch (cause) {
      throw ioError(path, call, cause);
    }
    try {
      const stat = await handle.stat();
      const file = new ImageFile(path, handle, stat.size);
      if (options.direct) {
        const { buf, block } = allocDirect(65536, handle.fd);
        file.block = block;
        file.bounces.push(buf);
      }
      return file;
    } catch (cause) {
      await handle.close().catch(() => undefined);
      throw ioError(path, options.direct ? 'pread(O_DIRECT probe)' : 'fstat', cause);
    }
  }

  get direct(): boolean {
    return this.block !== 0;
  }

  /** A buffer the file can transfer without bouncing (aligned when direct). */
  async allocBuffer(size: number): Promise<Buffer> {
    if (!this.direct) return Buffer.alloc(size);
    return allocDirect(size, this.handle.fd).buf;
  }

  private fits(buf: Uint8Array, offset: number): boolean {
    const b = this.block;
    return b === 0 || (offset % b === 0 && buf.length % b === 0 && isDirectReady(buf, b));
  }

  private async bounce(size: number): Promise<Buffer> {
    const i = this.bounces.findIndex((b) => b.length >= size);
    if (i >= 0) return this.bounces.splice(i, 1)[0];
    return allocDirect(Math.max(size, 65536), this.handle.fd).buf;
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
    if (this.fits(buf, offset)) return this.readDirect(buf, offset);
    const start = offset - (offset % this.block);
    const end = Math.ceil((offset + buf.length) / this.block) * this.block;
    const b = await this.bounce(end - start);
    try {
      const n = await this.readDirect(b.subarray(0, end - start), start);
      const got = Math.max(0, Math.min(buf.length, n - (offset - start)));
      buf.set(b.subarray(offset - start, offset - start + got));
      return got;
    } finally {
      this.bounces.push(b);
    }
  }

  private async readDirect(buf: Uint8Array, offset: number): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      let n: number;
      try {
        n = await this.io.read(buf.subarray(done), offset + done, this.active <= 1);
      } catch (cause) {
        throw ioError(this.path, 'pread', cause, { offset: offset + done, length: buf.length - done });
      }
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  async write(buf: Uint8Array, offset: number): Promise<void> {
    if (this.fits(buf, offset)) return this.writeDirect(buf, offset);
    // Read-modify-write of the blocks the write touches; past the end of the file they read as zeros.
    const start = offset - (offset % this.block);
    const end = Math.ceil((offset + buf.length) / this.block) * this.block;
    const b = await this.bounce(end - start);
    try {
      const whole = b.subarray(0, end - start);
      // Only a write that starts or ends inside a block needs the block's other bytes.
      if (start !== offset || end !== offset + buf.length) {
        const n = await this.readDirect(whole, start);
        whole.fill(0, n);
      }
      whole.set(buf, offset - start);
      await this.writeDirect(whole, start);
    } finally {
      this.bounces.push(b);
    }
  }

  private async writeDirect(buf: Uint8Array, offset: number): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      try {
        done += await this.io.write(buf.subarray(done), offset + done, this.active <= 1);
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
    this.allocated = Math.min(this.allocated, length);
  }

  /**
   * The runs of [offset, offset + length) the file system stores (data) and the holes it does not,
   * in order, from SEEK_DATA/SEEK_HOLE; file systems without them report everything as data.
   */
  async allocation(offset: number, length: number): Promise<{ start: number; length: number; data: boolean }[]> {
    // koffi and the file syscall bindings (@isola/sys/files, not all of @isola/sys) are loaded here, on
    // first use: a command that never asks where the holes are does not pay their ~30 ms.
    const { abi, lseek } = await loadSyscalls();
    const end = offset + length;
    const out: { start: number; length: number; data: boolean }[] = [];
    const push = (start: number, stop: number, data: boolean): void => {
      if (stop > start) out.push({ start, length: stop - start, data });
    };
    try {
      for (let at = offset; at < end; ) {
        const data = lseek(this.handle.fd, at, abi.SEEK_DATA) ?? end;
        push(at, Math.min(data, end), false);
        if (data >= end) break;
        const hole = lseek(this.handle.fd, data, abi.SEEK_HOLE) ?? end;
        push(data, Math.min(hole, end), true);
        at = hole;
      }
    } catch (cause) {
      throw ioError(this.path, 'lseek(SEEK_DATA)', cause, { offset, length });
    }
    return out;
  }

  /**
   * From now on, writeNow allocates (fallocate(2)) the part of each write that lies past what is
   * allocated before writing it. On ext4, a buffered write into allocated blocks skips the per-page
   * bookkeeping of delayed allocation: copying 768 MiB into a new file in 2 MiB writes took 0.24-0.30 s
   * with it against 0.29-0.49 s without (C, seven runs each), and `isola img convert` of bench/qcow2's
   * 1 GiB file took 0.43 and 0.46 s against 0.52 and 0.62 s (medians of two sets of seven runs).
   *
   * With `step`, for a writer that only appends (a new qcow2 image), each fallocate reaches at least
   * `step` bytes further: one call per 32 MiB instead of one per 2 MiB write (each ~50 us). The file
   * then grows ahead of its data, and trimAllocation() cuts it back. Without, exactly each write's
   * range is allocated, and a sparse file's holes stay holes.
   *
   * A full file system fails in fallocate (ENOSPC), before the write (a step that does not fit is
   * retried as the write's own range); one without fallocate (EOPNOTSUPP) is written as before.
   */
  async allocateAhead(step = 0): Promise<void> {
    if (this.direct || this.fallocate === null) return;
    this.fallocate = (await loadSyscalls()).fallocate;
    this.allocateStep = step;
    this.allocated = Math.max(this.allocated, this.length);
  }

  /** Gives back what allocateAhead's steps allocated past the data: the file ends where its data does. */
  async trimAllocation(): Promise<void> {
    if (this.allocated > this.length) await this.truncate(this.length);
    this.allocated = this.length;
  }

  /**
   * Allocates the part of [offset, end) past `allocated` (and, with a step, beyond) before a write there;
   * when the step does not fit (ENOSPC), the write's own range is tried alone.
   */
  private allocateFor(offset: number, end: number): void {
    const from = Math.max(offset, this.allocated);
    const ahead = this.allocateStep > 0 ? Math.max(end, this.allocated + this.allocateStep) : end;
    for (const to of ahead > end ? [ahead, end] : [end]) {
      try {
        this.fallocate!(this.handle.fd, 0, from, to - from);
        this.allocated = to;
        return;
      } catch (cause) {
        if (unsupported(cause)) {
          this.fallocate = null;
          return;
        }
        if (to === end || (cause as { code?: unknown }).code !== 'ENOSPC') throw ioError(this.path, 'fallocate', cause, { offset: from, length: to - from });
      }
    }
  }

  /**
   * Makes [offset, offset + length) read as zeros without writing them, as qemu's file driver does:
   * 'punch' gives the blocks back (fallocate PUNCH_HOLE, for discard), 'zero' keeps them allocated
   * (fallocate ZERO_RANGE, for write-zeroes; where the file system lacks it, a punched hole reads the
   * same). The file's size never changes. Resolves false where the file system has neither: the caller
   * then writes zeros, or does nothing for a discard.
   */
  async deallocate(offset: number, length: number, how: 'punch' | 'zero'): Promise<boolean> {
    if (length === 0) return true;
    const { abi, fallocate } = await loadSyscalls();
    const punch = abi.FALLOC_FL_PUNCH_HOLE | abi.FALLOC_FL_KEEP_SIZE;
    for (const [mode, name] of how === 'zero' ? [[abi.FALLOC_FL_ZERO_RANGE | abi.FALLOC_FL_KEEP_SIZE, 'ZERO_RANGE'], [punch, 'PUNCH_HOLE']] as const : [[punch, 'PUNCH_HOLE']] as const) {
      try {
        fallocate(this.handle.fd, mode, offset, length);
        return true;
      } catch (cause) {
        if (!unsupported(cause)) throw ioError(this.path, `fallocate(${name})`, cause, { offset, length });
      }
    }
    return false;
  }

  /**
   * Gives the space of image clusters that nothing references any more back to the file system (holes
   * in the file), run by run, as qemu does with its default pass-discard settings: a guest's discard, a
   * deleted snapshot or a rewritten cluster then shrinks the image on disk. Reallocating a hole later
   * simply fills it. Best effort, as in qemu (whose qcow2 driver ignores what such a discard returns):
   * the operation that freed the clusters has succeeded, and where the file system cannot punch them
   * (or fails to), they only keep their space.
   */
  async punchClusters(clusters: number[], clusterSize: number): Promise<void> {
    const sorted = [...clusters].sort((a, b) => a - b);
    try {
      for (let i = 0; i < sorted.length; ) {
        let j = i + 1;
        while (j < sorted.length && sorted[j] === sorted[j - 1] + 1) j++;
        if (!(await this.deallocate(sorted[i] * clusterSize, (j - i) * clusterSize, 'punch'))) return;
        i = j;
      }
    } catch {
      // the space stays allocated; nothing references it
    }
  }

  /** fdatasync: the ordering barrier between data/refcounts, L2 tables and the L1 table. */
  async sync(): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (cause) {
      throw ioError(this.path, 'fdatasync', cause);
    }
  }

  /**
   * Writes `buf` at `offset` on the calling thread, blocking until the kernel has it (a buffered file:
   * a copy into the page cache). For a writer that has nothing else to do meanwhile (convert): no
   * thread-pool round trip, no wake-up of a pool thread per write.
   */
  writeNow(buf: Uint8Array, offset: number): void {
    if (this.direct) throw new Error('writeNow: the file is O_DIRECT');
    const end = offset + buf.length;
    if (this.fallocate && end > this.allocated) this.allocateFor(offset, end);
    this.writeSyncTo(this.handle.fd, buf, offset);
  }

  /** pwrite(2) on this thread until all of `buf` is written, through descriptor `fd` of this file. */
  private writeSyncTo(fd: number, buf: Uint8Array, offset: number): void {
    let done = 0;
    while (done < buf.length) {
      try {
        done += writeSync(fd, buf, done, buf.length - done, offset + done);
      } catch (cause) {
        throw ioError(this.path, 'pwrite', cause, { offset: offset + done, length: buf.length - done });
      }
    }
    this.length = Math.max(this.length, offset + buf.length);
  }

  /**
   * Writes metadata (L2 and refcount tables): under O_DIRECT through a second, buffered descriptor,
   * so that the small table updates every allocating write makes cost a page-cache copy instead of a
   * device round trip. Linux keeps the two views coherent (a direct transfer first writes back and
   * drops cached pages of its range), and fdatasync on either descriptor flushes both: the barriers
   * that order metadata stay what they were.
   */
  async writeMetadata(buf: Uint8Array, offset: number): Promise<void> {
    if (!this.direct) return this.write(buf, offset);
    if (this.buffered === undefined) {
      try {
        this.buffered = await open(this.path, constants.O_RDWR);
      } catch (cause) {
        throw ioError(this.path, 'open(O_RDWR) for metadata', cause);
      }
    }
    this.writeSyncTo(this.buffered.fd, buf, offset);
  }

  async close(): Promise<void> {
    try {
      await this.buffered?.close();
      await this.handle.close();
    } catch (cause) {
      throw ioError(this.path, 'close', cause);
    }
  }
}
