// File descriptors: open, read, write, sync, control, close.
import { constants as osConstants } from 'node:os';
import * as c from '../abi/constants.js';
import { check, q } from '../errors.js';
import { lastErrno, libc } from '../libc.js';

export function open(path: string, flags: number, mode = 0o644): number {
  return check(libc.open(path, flags | c.O_CLOEXEC, mode), 'open', () => q(path));
}

export function openat(dirfd: number, path: string, flags: number, mode = 0o644): number {
  return check(libc.openat(dirfd, path, flags | c.O_CLOEXEC, mode), 'openat', () => `${dirfd}, ${q(path)}`);
}

export function close(fd: number): void {
  check(libc.close(fd), 'close', () => `${fd}`);
}

/** Reads up to buffer.length bytes; returns how many were read (0 at end of file). */
export function read(fd: number, buffer: Uint8Array): number {
  return check(libc.read(fd, buffer, buffer.byteLength), 'read', () => `${fd}, ${buffer.byteLength} bytes`);
}

export function write(fd: number, buffer: Uint8Array): number {
  return check(libc.write(fd, buffer, buffer.byteLength), 'write', () => `${fd}, ${buffer.byteLength} bytes`);
}

export function pread(fd: number, buffer: Uint8Array, offset: number | bigint): number {
  return check(libc.pread(fd, buffer, buffer.byteLength, offset), 'pread', () => `${fd}, ${buffer.byteLength} bytes at ${offset}`);
}

export function pwrite(fd: number, buffer: Uint8Array, offset: number | bigint): number {
  return check(libc.pwrite(fd, buffer, buffer.byteLength, offset), 'pwrite', () => `${fd}, ${buffer.byteLength} bytes at ${offset}`);
}

export type Whence = typeof c.SEEK_SET | typeof c.SEEK_CUR | typeof c.SEEK_END | typeof c.SEEK_DATA | typeof c.SEEK_HOLE;
const WHENCE = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];

/**
 * lseek(2); returns the new offset. SEEK_DATA at or past the last data (and SEEK_HOLE at or past the end
 * of the file) fail with ENXIO, which means "no more data" rather than an error: that returns null.
 * Offsets are numbers (files up to 8 PiB); a bigint is accepted for the argument.
 */
export function lseek(fd: number, offset: number | bigint, whence: Whence): number | null {
  const result = libc.lseek(fd, offset, whence) as number | bigint;
  if ((result === -1 || result === -1n) && (whence === c.SEEK_DATA || whence === c.SEEK_HOLE) && lastErrno() === osConstants.errno.ENXIO) return null;
  return Number(check(result, 'lseek', () => `${fd}, ${offset}, ${WHENCE[whence] ?? whence}`));
}

export function fsync(fd: number): void {
  check(libc.fsync(fd), 'fsync', () => `${fd}`);
}

export function fdatasync(fd: number): void {
  check(libc.fdatasync(fd), 'fdatasync', () => `${fd}`);
}

/**
 * fallocate(2): mode 0 allocates [offset, offset + length) (growing the file), FALLOC_FL_PUNCH_HOLE
 * (with FALLOC_FL_KEEP_SIZE) gives a range's blocks back, FALLOC_FL_ZERO_RANGE zeroes it. File systems
 * without a mode fail with EOPNOTSUPP.
 */
export function fallocate(fd: number, mode: number, offset: number, length: number): void {
  check(libc.fallocate(fd, mode, offset, length), 'fallocate', () => `${fd}, 0x${mode.toString(16)}, ${offset}, ${length}`);
}

export function fcntl(fd: number, command: number, arg = 0): number {
  return check(libc.fcntl(fd, command, arg), 'fcntl', () => `${fd}, ${command}, ${arg}`);
}

/** Sets or clears FD_CLOEXEC (execve from Node needs fds 0-2 inheritable again). */
export function setCloseOnExec(fd: number, on: boolean): void {
  const flags = fcntl(fd, c.F_GETFD);
  fcntl(fd, c.F_SETFD, on ? flags | c.FD_CLOEXEC : flags & ~c.FD_CLOEXEC);
}

/** ioctl with a pointer argument: `arg` is the struct the request reads and/or fills. */
export function ioctl(fd: number, request: number, arg: Uint8Array | null, name = `0x${request.toString(16)}`): number {
  return check(libc.ioctlPtr(fd, request, arg), 'ioctl', () => `${fd}, ${name}`);
}

/** ioctl with an integer argument (or none). */
export function ioctlValue(fd: number, request: number, value: number | bigint = 0, name = `0x${request.toString(16)}`): number {
  const result = typeof value === 'bigint' ? libc.ioctlAddr(fd, request, value) : libc.ioctlInt(fd, request, value);
  return check(result, 'ioctl', () => `${fd}, ${name}, ${value}`);
}

export function pipe2(flags = c.O_CLOEXEC): [read: number, write: number] {
  const fds = new Int32Array(2);
  check(libc.pipe2(fds, flags), 'pipe2', () => `0x${flags.toString(16)}`);
  return [fds[0]!, fds[1]!];
}

export function eventfd(initial = 0, flags = c.EFD_CLOEXEC): number {
  return check(libc.eventfd(initial, flags), 'eventfd', () => `${initial}, 0x${flags.toString(16)}`);
}

export function memfdCreate(name: string, flags = c.MFD_CLOEXEC): number {
  return check(libc.memfd_create(name, flags), 'memfd_create', () => q(name));
}

export function closeRange(first: number, last = 0xffffffff, flags = 0): void {
  check(libc.close_range(first, last, flags), 'close_range', () => `${first}, ${last}, ${flags}`);
}

export function mkfifo(path: string, mode = 0o600): void {
  check(libc.mkfifo(path, mode), 'mkfifo', () => q(path));
}

/** The glibc makedev() encoding of a device number (major and minor may exceed 8 bits). */
export function makedev(major: number, minor: number): bigint {
  const M = BigInt(major);
  const m = BigInt(minor);
  return ((M & 0xfffff000n) << 32n) | ((M & 0xfffn) << 8n) | ((m & 0xffffff00n) << 12n) | (m & 0xffn);
}

export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check(libc.mknod(path, mode, makedev(major, minor)), 'mknod', () => `${q(path)}, 0o${mode.toString(8)}, ${major}:${minor}`);
}

/** Sets an extended attribute on `path` itself, not on what a symlink there points to. */
export function lsetxattr(path: string, name: string, value: Uint8Array, flags = 0): void {
  check(libc.lsetxattr(path, name, value, value.byteLength, flags), 'lsetxattr', () => `${q(path)}, ${q(name)}`);
}

/** Reads an extended attribute of `path` itself (up to 64 KiB). */
export function lgetxattr(path: string, name: string): Buffer {
  const buf = Buffer.alloc(65536);
  const n = Number(check(libc.lgetxattr(path, name, buf, buf.length), 'lgetxattr', () => `${q(path)}, ${q(name)}`));
  return buf.subarray(0, n);
}

/**
 * flock(2) on an open file: true when the lock was taken, false when `nonBlocking` and another open file
 * description holds it. The kernel drops the lock when the holder exits, so a crash leaves no stale lock.
 */
export function flock(fd: number, operation: number, nonBlocking = false): boolean {
  const result = libc.flock(fd, operation | (nonBlocking ? c.LOCK_NB : 0));
  if (result === -1 && nonBlocking && lastErrno() === osConstants.errno.EWOULDBLOCK) return false;
  return check(result, 'flock', () => `${fd}, ${operation}`) === 0;
}
