// An AF_NETLINK socket, bound to the network namespace of the thread that opened it (so a caller on
// Node's main thread can setns, open, and setns back, then talk to that namespace for as long as it likes).
// It sends one request at a time and reads until the kernel's acknowledgement, error or end of dump.
import { constants } from 'node:os';
import { IsolaError } from '@isola/errors';
import * as c from '../abi/constants.js';
import { errnoName } from '../errors.js';
import { check } from '../errors.js';
import { libc } from '../libc.js';
import { close, read, write } from '../syscalls/files.js';
import * as nl from './netlink-abi.js';
import { decodeError, decodeMessages, encodeRequest, type Message, type Request } from './netlink-message.js';

/** A request the kernel refused: `RTM_NEWLINK veth "veth1a2b": EEXIST (File exists)`. */
export class NetlinkError extends IsolaError {
  readonly errno: number;

  constructor(what: string, errno: number, reason?: string) {
    const name = errnoName(errno);
    super(name, `${what}: ${name} (${libc.strerror(errno)})${reason ? `: ${reason}` : ''}`, { details: { request: what, errno, reason } });
    this.name = 'NetlinkError';
    this.errno = errno;
  }
}

/** What RtNetlink needs from a socket; the recording fake in netlink-route.test.ts implements it too. */
export interface NetlinkTransport {
  /** Sends `request` (seq filled in) and returns the data messages of the reply; throws NetlinkError. */
  call(request: Omit<Request, 'seq'>, what: string): Message[];
  close(): void;
}

export class NetlinkSocket implements NetlinkTransport {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly buffer = Buffer.alloc(256 * 1024);

  private constructor(readonly fd: number) {}

  static open(protocol = nl.NETLINK_ROUTE): NetlinkSocket {
    const fd = check(libc.socket(c.AF_NETLINK, c.SOCK_RAW | c.SOCK_CLOEXEC, protocol), 'socket', () => `AF_NETLINK, ${protocol}`);
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    // Ask for the kernel's reason text with errors, and for errors that do not echo the whole request.
    // Both are best effort: old kernels lack them and say only the errno.
    libc.setsockopt(fd, c.SOL_NETLINK, nl.NETLINK_EXT_ACK, one, 4);
    libc.setsockopt(fd, c.SOL_NETLINK, nl.NETLINK_CAP_ACK, one, 4);
    return new NetlinkSocket(fd);
  }

  call(request: Omit<Request, 'seq'>, what: string): Message[] {
    const seq = (this.seq = (this.seq + 1) >>> 0);
    write(this.fd, encodeRequest({ ...request, seq, flags: request.flags | nl.NLM_F_REQUEST | nl.NLM_F_ACK }));
    const dump = (request.flags & nl.NLM_F_DUMP) === nl.NLM_F_DUMP;
    const replies: Message[] = [];
    for (;;) {
      let n: number;
      try {
        n = read(this.fd, this.buffer);
      } catch (error) {
        if ((error as { errno?: number }).errno === constants.errno.EINTR) continue;
        throw error;
      }
      for (const message of decodeMessages(this.buffer.subarray(0, n))) {
        if (message.seq !== seq) continue; // a late reply to an earlier request
        if (message.type === nl.NLMSG_ERROR) {
          const { errno, reason } = decodeError(message);
          if (errno !== 0) throw new NetlinkError(what, errno, reason);
          if (!dump) return replies;
        } else if (message.type === nl.NLMSG_DONE) {
          return replies;
        } else {
          replies.push({ ...message, data: Buffer.from(message.data) });
        }
      }
    }
  }

  close(): void {
    close(this.fd);
  }
}
