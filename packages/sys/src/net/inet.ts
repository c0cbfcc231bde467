// IPv4 sockets that isola itself needs: a bind probe that tells whether a host port is free, the way
// docker finds "port is already allocated" before it publishes one.
import { constants } from 'node:os';
import * as c from '../abi/constants.js';
import * as s from '../abi/structs.js';
import { check, SyscallError } from '../errors.js';
import { libc } from '../libc.js';
import { close } from '../syscalls/files.js';
import { ipv4Bytes } from './netlink-message.js';

export type InetProtocol = 'tcp' | 'udp';

function sockaddrIn(address: string, port: number): Buffer {
  const addr = Buffer.alloc(s.sockaddr_in.size);
  addr.writeUInt16LE(c.AF_INET, s.sockaddr_in.sin_family);
  addr.writeUInt16BE(port, s.sockaddr_in.sin_port);
  addr.set(ipv4Bytes(address), s.sockaddr_in.sin_addr);
  return addr;
}

/**
 * Whether `address:port/protocol` can be bound in the calling thread's network namespace right now
 * (false on EADDRINUSE). SO_REUSEADDR is set for TCP, as servers do, so a port in TIME_WAIT counts as free.
 * Other failures (an address the host does not have: EADDRNOTAVAIL) throw SyscallError.
 */
export function canBind(address: string, port: number, protocol: InetProtocol): boolean {
  const type = protocol === 'tcp' ? c.SOCK_STREAM : c.SOCK_DGRAM;
  const fd = check(libc.socket(c.AF_INET, type | c.SOCK_CLOEXEC, 0), 'socket', () => `AF_INET, ${protocol}`);
  try {
    if (protocol === 'tcp') {
      const one = Buffer.alloc(4);
      one.writeInt32LE(1);
      check(libc.setsockopt(fd, c.SOL_SOCKET, c.SO_REUSEADDR, one, 4), 'setsockopt', () => 'SO_REUSEADDR');
    }
    try {
      check(libc.bind(fd, sockaddrIn(address, port), s.sockaddr_in.size), 'bind', () => `${address}:${port}/${protocol}`);
    } catch (error) {
      if (error instanceof SyscallError && error.errno === constants.errno.EADDRINUSE) return false;
      throw error;
    }
    return true;
  } finally {
    close(fd);
  }
}
