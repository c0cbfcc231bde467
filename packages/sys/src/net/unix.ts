// Unix sockets with fd passing (SCM_RIGHTS): how a runtime hands a container's terminal to its caller
// through --console-socket, which Node's own net module cannot do.
import { IsolaError } from '@isola/errors';
import * as c from '../abi/constants.js';
import * as s from '../abi/structs.js';
import { check, q } from '../errors.js';
import { libc } from '../libc.js';
import { close } from '../syscalls/files.js';
import { mmap } from '../syscalls/memory.js';

function address(path: string): Buffer {
  if (Buffer.byteLength(path) >= 108) throw new IsolaError('ENAMETOOLONG', `unix socket path ${q(path)} is longer than 107 bytes`);
  const addr = Buffer.alloc(s.sockaddr_un.size);
  addr.writeUInt16LE(c.AF_UNIX, s.sockaddr_un.sun_family);
  addr.write(path, s.sockaddr_un.sun_path);
  return addr;
}

export function unixConnect(path: string): number {
  const fd = check(libc.socket(c.AF_UNIX, c.SOCK_STREAM | c.SOCK_CLOEXEC, 0), 'socket', () => 'AF_UNIX');
  try {
    check(libc.connect(fd, address(path), s.sockaddr_un.size), 'connect', () => q(path));
    return fd;
  } catch (error) {
    close(fd);
    throw error;
  }
}

export function unixListen(path: string): number {
  const fd = check(libc.socket(c.AF_UNIX, c.SOCK_STREAM | c.SOCK_CLOEXEC, 0), 'socket', () => 'AF_UNIX');
  try {
    check(libc.bind(fd, address(path), s.sockaddr_un.size), 'bind', () => q(path));
    check(libc.listen(fd, 16), 'listen', () => q(path));
    return fd;
  } catch (error) {
    close(fd);
    throw error;
  }
}

export function unixAccept(fd: number): number {
  return check(libc.accept4(fd, null, null, c.SOCK_CLOEXEC), 'accept4', () => `${fd}`);
}

/**
 * The pieces of a sendmsg(2) that passes one fd with a payload, laid out for the spawn interpreter or
 * for libc: msghdr → iovec → payload, and msghdr → cmsghdr(SCM_RIGHTS, fd).
 */
export function fdMessage(fd: number, payload: string): { msghdr: Buffer; iov: Buffer; data: Buffer; control: Buffer } {
  const data = Buffer.from(payload);
  const iov = Buffer.alloc(s.iovec.size);
  iov.writeBigUInt64LE(BigInt(data.length), s.iovec.iov_len);
  const control = Buffer.alloc(24); // CMSG_SPACE(sizeof(int))
  control.writeBigUInt64LE(20n, s.cmsghdr.cmsg_len); // CMSG_LEN(sizeof(int))
  control.writeInt32LE(c.SOL_SOCKET, s.cmsghdr.cmsg_level);
  control.writeInt32LE(c.SCM_RIGHTS, s.cmsghdr.cmsg_type);
  control.writeInt32LE(fd, s.cmsghdr.size);
  const msghdr = Buffer.alloc(s.msghdr.size);
  msghdr.writeBigUInt64LE(1n, s.msghdr.msg_iovlen);
  msghdr.writeBigUInt64LE(BigInt(control.length), s.msghdr.msg_controllen);
  return { msghdr, iov, data, control };
}

/** Receives one message carrying an fd (blocking); returns the fd and the payload. */
export function recvFd(socket: number): { fd: number; payload: string } {
  // The message's pointers must be real addresses, so it lives in a mapping of our own, whose address
  // is known: msghdr at 0, iovec at 64, control at 128, payload from 256.
  const m = mmap(8192);
  try {
    const view = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.length);
    view.writeBigUInt64LE(m.address + 64n, s.msghdr.msg_iov);
    view.writeBigUInt64LE(1n, s.msghdr.msg_iovlen);
    view.writeBigUInt64LE(m.address + 128n, s.msghdr.msg_control);
    view.writeBigUInt64LE(64n, s.msghdr.msg_controllen);
    view.writeBigUInt64LE(m.address + 256n, 64 + s.iovec.iov_base);
    view.writeBigUInt64LE(BigInt(m.length - 256), 64 + s.iovec.iov_len);
    const n = Number(check(libc.recvmsg(socket, m.address, 0), 'recvmsg', () => `${socket}`));
    if (view.readInt32LE(128 + s.cmsghdr.cmsg_level) !== c.SOL_SOCKET || view.readInt32LE(128 + s.cmsghdr.cmsg_type) !== c.SCM_RIGHTS) {
      throw new IsolaError('EPROTO', 'the message on the socket carries no file descriptor');
    }
    return { fd: view.readInt32LE(128 + s.cmsghdr.size), payload: view.toString('utf8', 256, 256 + n) };
  } finally {
    m.unmap();
  }
}
