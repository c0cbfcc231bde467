// Netlink messages as bytes, with no I/O: a request is a header struct followed by attributes
// (type-length-value, 4-byte aligned, possibly nested); a reply is a run of messages to split apart.
import * as nl from './netlink-abi.js';

/** One attribute: raw bytes, or nested attributes. */
export interface Attr {
  type: number;
  value: Uint8Array | Attr[];
}

const align = (n: number): number => (n + 3) & ~3;

export const attr = {
  bytes: (type: number, value: Uint8Array): Attr => ({ type, value }),
  /** A C string: the kernel wants the terminating NUL. */
  str: (type: number, value: string): Attr => ({ type, value: Buffer.from(`${value}\0`) }),
  u32: (type: number, value: number): Attr => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    return { type, value: b };
  },
  /** An IPv4 address in network order. */
  ipv4: (type: number, address: string): Attr => ({ type, value: ipv4Bytes(address) }),
  nest: (type: number, children: Attr[]): Attr => ({ type, value: children }),
};

export function ipv4Bytes(address: string): Buffer {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(address)}`);
  return Buffer.from(parts);
}

export function ipv4String(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new RangeError(`not a MAC address: ${JSON.stringify(mac)}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function macString(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

function attrsLength(attrs: readonly Attr[]): number {
  let n = 0;
  for (const a of attrs) n += align(nl.rtattr.size + (Array.isArray(a.value) ? attrsLength(a.value) : (a.value as Uint8Array).byteLength));
  return n;
}

function writeAttrs(out: Buffer, offset: number, attrs: readonly Attr[]): number {
  for (const a of attrs) {
    const start = offset;
    offset += nl.rtattr.size;
    if (Array.isArray(a.value)) offset = writeAttrs(out, offset, a.value);
    else {
      out.set(a.value as Uint8Array, offset);
      offset += (a.value as Uint8Array).byteLength;
    }
    out.writeUInt16LE(offset - start, start + nl.rtattr.rta_len);
    out.writeUInt16LE(a.type, start + nl.rtattr.rta_type);
    offset = align(offset);
  }
  return offset;
}

export interface Request {
  type: number;
  flags: number;
  seq: number;
  /** The fixed struct after nlmsghdr (ifinfomsg, ifaddrmsg, rtmsg). */
  header: Uint8Array;
  attrs?: readonly Attr[];
}

export function encodeRequest(request: Request): Buffer {
  const attrs = request.attrs ?? [];
  const length = nl.nlmsghdr.size + align(request.header.byteLength) + attrsLength(attrs);
  const out = Buffer.alloc(length);
  out.writeUInt32LE(length, nl.nlmsghdr.nlmsg_len);
  out.writeUInt16LE(request.type, nl.nlmsghdr.nlmsg_type);
  out.writeUInt16LE(request.flags, nl.nlmsghdr.nlmsg_flags);
  out.writeUInt32LE(request.seq >>> 0, nl.nlmsghdr.nlmsg_seq);
  out.set(request.header, nl.nlmsghdr.size);
  writeAttrs(out, nl.nlmsghdr.size + align(request.header.byteLength), attrs);
  return out;
}

export interface Message {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** What follows nlmsghdr. */
  data: Buffer;
}

/** Splits a datagram into its messages; a truncated or malformed one ends the list with an error. */
export function decodeMessages(buf: Buffer): Message[] {
  const messages: Message[] = [];
  let offset = 0;
  while (offset + nl.nlmsghdr.size <= buf.length) {
    const length = buf.readUInt32LE(offset + nl.nlmsghdr.nlmsg_len);
    if (length < nl.nlmsghdr.size || offset + length > buf.length) throw new RangeError(`netlink message of ${length} bytes at offset ${offset} overruns the ${buf.length}-byte datagram`);
    messages.push({
      type: buf.readUInt16LE(offset + nl.nlmsghdr.nlmsg_type),
      flags: buf.readUInt16LE(offset + nl.nlmsghdr.nlmsg_flags),
      seq: buf.readUInt32LE(offset + nl.nlmsghdr.nlmsg_seq),
      pid: buf.readUInt32LE(offset + nl.nlmsghdr.nlmsg_pid),
      data: buf.subarray(offset + nl.nlmsghdr.size, offset + length),
    });
    offset += align(length);
  }
  return messages;
}

/** The attributes in `buf` from `offset` on, by type (a repeated type keeps the last). */
export function decodeAttrs(buf: Buffer, offset = 0): Map<number, Buffer> {
  const attrs = new Map<number, Buffer>();
  while (offset + nl.rtattr.size <= buf.length) {
    const length = buf.readUInt16LE(offset + nl.rtattr.rta_len);
    if (length < nl.rtattr.size || offset + length > buf.length) break;
    // The top bits flag nesting and byte order; the type is the rest.
    attrs.set(buf.readUInt16LE(offset + nl.rtattr.rta_type) & 0x3fff, buf.subarray(offset + nl.rtattr.size, offset + length));
    offset += align(length);
  }
  return attrs;
}

/** A NUL-terminated string attribute. */
export function attrString(value: Buffer | undefined): string | undefined {
  if (!value) return undefined;
  const end = value.indexOf(0);
  return value.toString('utf8', 0, end < 0 ? value.length : end);
}

/** An NLMSG_ERROR reply: errno 0 is the acknowledgement; `reason` is the kernel's extended ack text. */
export function decodeError(message: Message): { errno: number; reason?: string } {
  const errno = -message.data.readInt32LE(nl.nlmsgerr.error);
  if (!(message.flags & nl.NLM_F_ACK_TLVS)) return { errno };
  const originalLength = message.data.readUInt32LE(nl.nlmsgerr.msg + nl.nlmsghdr.nlmsg_len);
  const echoed = message.flags & nl.NLM_F_CAPPED ? nl.nlmsghdr.size : originalLength;
  const reason = attrString(decodeAttrs(message.data, align(nl.nlmsgerr.msg + echoed)).get(nl.NLMSGERR_ATTR_MSG));
  return reason ? { errno, reason } : { errno };
}
