// lseek against a real sparse file: SEEK_DATA/SEEK_HOLE find the extents the writes made, and ENXIO
// past the last data comes back as null, not as an error. fallocate allocates, grows and punches the
// file's blocks, as fstat's block count shows.
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as c from '../abi/constants.js';
import { SyscallError } from '../errors.js';
import { fallocate, lseek } from './files.js';

const dir = mkdtempSync(join(tmpdir(), 'isola-lseek-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;

/** The file's data extents as [start, end) pairs, walked with SEEK_DATA and SEEK_HOLE. */
function dataExtents(fd: number): [number, number][] {
  const out: [number, number][] = [];
  for (let at: number | null = 0; ; ) {
    const start = lseek(fd, at, c.SEEK_DATA);
    if (start === null) return out;
    const end = lseek(fd, start, c.SEEK_HOLE)!;
    out.push([start, end]);
    at = end;
  }
}

describe('lseek', () => {
  const path = join(dir, 'sparse');
  // 64 MiB with data at 1 MiB (4 KiB), 8 MiB (1 MiB), 40 MiB + 4 KiB (8 KiB) and a hole to the end.
  closeSync(openSync(path, 'w'));
  truncateSync(path, 64 * MiB);
  const fd = openSync(path, 'r+');
  afterAll(() => closeSync(fd));
  writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, 1 * MiB);
  writeSync(fd, Buffer.alloc(MiB, 2), 0, MiB, 8 * MiB);
  writeSync(fd, Buffer.alloc(8192, 3), 0, 8192, 40 * MiB + 4096);

  it('maps a sparse file into its data extents', () => {
    expect(dataExtents(fd)).toEqual([
      [1 * MiB, 1 * MiB + 4096],
      [8 * MiB, 9 * MiB],
      [40 * MiB + 4096, 40 * MiB + 12288],
    ]);
  });

  it('returns null for SEEK_DATA past the last data and SEEK_HOLE at the end, offsets for the rest', () => {
    expect(lseek(fd, 40 * MiB + 12288, c.SEEK_DATA)).toBeNull();
    expect(lseek(fd, 64 * MiB, c.SEEK_HOLE)).toBeNull();
    expect(lseek(fd, 100 * MiB, c.SEEK_DATA)).toBeNull();
    expect(lseek(fd, 2 * MiB, c.SEEK_HOLE)).toBe(2 * MiB); // already in a hole
    expect(lseek(fd, 0, c.SEEK_END)).toBe(64 * MiB);
    expect(lseek(fd, 5n * BigInt(MiB), c.SEEK_SET)).toBe(5 * MiB);
    expect(lseek(fd, 4096, c.SEEK_CUR)).toBe(5 * MiB + 4096);
  });

  it('offsets past 4 GiB survive the 64-bit call', () => {
    const big = join(dir, 'big');
    const bfd = openSync(big, 'w+');
    try {
      writeSync(bfd, Buffer.alloc(4096, 9), 0, 4096, 6 * 1024 * MiB);
      expect(lseek(bfd, 0, c.SEEK_DATA)).toBe(6 * 1024 * MiB);
      expect(lseek(bfd, 6 * 1024 * MiB, c.SEEK_HOLE)).toBe(6 * 1024 * MiB + 4096);
    } finally {
      closeSync(bfd);
    }
  });

  it('names the descriptor, offset and whence when the call fails', () => {
    let error: unknown;
    try {
      lseek(fd, -1, c.SEEK_SET);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SyscallError);
    expect((error as Error).message).toBe(`lseek(${fd}, -1, SEEK_SET): EINVAL (Invalid argument)`);
    expect(() => lseek(-5, 0, c.SEEK_DATA)).toThrow('lseek(-5, 0, SEEK_DATA): EBADF (Bad file descriptor)');
  });
});

describe('fallocate', () => {
  it('allocates a range (growing the file), then punches a hole in it that reads as zeros', () => {
    const path = join(dir, 'allocated');
    const fd = openSync(path, 'w+');
    try {
      fallocate(fd, 0, MiB, 2 * MiB);
      let stat = fstatSync(fd);
      expect(stat.size).toBe(3 * MiB);
      expect(stat.blocks * 512).toBeGreaterThanOrEqual(2 * MiB);
      expect(stat.blocks * 512).toBeLessThan(3 * MiB); // the first MiB stays a hole

      writeSync(fd, Buffer.alloc(2 * MiB, 7), 0, 2 * MiB, MiB);
      fallocate(fd, c.FALLOC_FL_PUNCH_HOLE | c.FALLOC_FL_KEEP_SIZE, MiB, MiB);
      stat = fstatSync(fd);
      expect(stat.size).toBe(3 * MiB);
      expect(stat.blocks * 512).toBeLessThan(2 * MiB);
      const back = Buffer.alloc(2 * MiB);
      readSync(fd, back, 0, back.length, MiB);
      expect(back.subarray(0, MiB).every((b) => b === 0)).toBe(true);
      expect(back.subarray(MiB).every((b) => b === 7)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it('names the descriptor, mode and range when the call fails', () => {
    expect(() => fallocate(-5, 0, 0, 4096)).toThrow('fallocate(-5, 0x0, 0, 4096): EBADF (Bad file descriptor)');
    const fd = openSync(join(dir, 'allocated-bad'), 'w+');
    try {
      expect(() => fallocate(fd, 0, 0, 0)).toThrow(`fallocate(${fd}, 0x0, 0, 0): EINVAL (Invalid argument)`);
    } finally {
      closeSync(fd);
    }
  });
});
