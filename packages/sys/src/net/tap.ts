// TAP devices through /dev/net/tun and TUNSETIFF: the host end of a VM's virtio-net.
import * as c from '../abi/constants.js';
import { TUNSETIFF, TUNSETPERSIST, TUNSETVNETHDRSZ } from '../abi/ioctls.js';
import * as s from '../abi/structs.js';
import { IsolaError } from '@isola/errors';
import { close, ioctl, ioctlValue, open } from '../syscalls/files.js';

export interface TapOptions {
  /** Interface name or pattern ("tap%d"); the kernel picks one when omitted. */
  name?: string;
  /** Prepend a struct virtio_net_hdr to each frame (IFF_VNET_HDR), of this many bytes (10 or 12). */
  vnetHeaderSize?: number;
  persist?: boolean;
}

export interface Tap {
  fd: number;
  name: string;
}

/** Opens a TAP interface; the fd reads and writes whole Ethernet frames. */
export function openTap(options: TapOptions = {}): Tap {
  const name = options.name ?? 'tap%d';
  if (Buffer.byteLength(name) >= 16) throw new IsolaError('EINVAL', `tap interface name ${JSON.stringify(name)} is longer than 15 bytes`);
  const fd = open('/dev/net/tun', c.O_RDWR | c.O_NONBLOCK);
  try {
    const req = Buffer.alloc(s.ifreq.size);
    req.write(name, s.ifreq.ifr_name);
    let flags = c.IFF_TAP | c.IFF_NO_PI;
    if (options.vnetHeaderSize) flags |= c.IFF_VNET_HDR;
    req.writeUInt16LE(flags, s.ifreq.ifr_flags);
    ioctl(fd, TUNSETIFF, req, `TUNSETIFF ${JSON.stringify(name)}`);
    if (options.vnetHeaderSize) {
      const size = Buffer.alloc(4);
      size.writeInt32LE(options.vnetHeaderSize);
      ioctl(fd, TUNSETVNETHDRSZ, size, 'TUNSETVNETHDRSZ');
    }
    if (options.persist) ioctlValue(fd, TUNSETPERSIST, 1, 'TUNSETPERSIST');
    const end = req.indexOf(0, s.ifreq.ifr_name);
    return { fd, name: req.toString('utf8', s.ifreq.ifr_name, end < 0 || end > 16 ? 16 : end) };
  } catch (error) {
    close(fd);
    throw error;
  }
}
