// Runs parsed virtio-blk requests against a disk image (@isola/qcow2's Image: qcow2 or raw). Data moves
// straight between the image and guest memory, one image call per guest buffer. Errors from the image
// become VIRTIO_BLK_S_IOERR for the guest; the caller hears about them through onError.
import type { Image } from '@isola/qcow2';
import { totalLength } from '../virtio/chain.js';
import type { GuestRam } from '../virtio/ram.js';
import { BlkStatus, type BlkRequest } from './request.js';

export interface Outcome {
  status: number;
  /** Bytes written into the guest's writable buffers, not counting the status byte. */
  written: number;
}

export async function execute(request: BlkRequest, image: Image, ram: GuestRam, id: Uint8Array, onError?: (error: unknown) => void): Promise<Outcome> {
  try {
    switch (request.kind) {
      case 'in': {
        let offset = request.offset;
        for (const s of request.data) {
          await image.read(ram.view(s.address, s.length)!, offset);
          offset += s.length;
        }
        return { status: BlkStatus.OK, written: totalLength(request.data) };
      }
      case 'out': {
        let offset = request.offset;
        for (const s of request.data) {
          await image.write(ram.view(s.address, s.length)!, offset);
          offset += s.length;
        }
        return { status: BlkStatus.OK, written: 0 };
      }
      case 'flush':
        await image.flush();
        return { status: BlkStatus.OK, written: 0 };
      case 'get-id': {
        let at = 0;
        for (const s of request.data) {
          const view = ram.view(s.address, s.length)!;
          view.fill(0);
          view.set(id.subarray(at, at + s.length));
          at += s.length;
        }
        return { status: BlkStatus.OK, written: totalLength(request.data) };
      }
      case 'discard':
        for (const r of request.ranges) await image.discard(r.offset, r.length);
        return { status: BlkStatus.OK, written: 0 };
      case 'write-zeroes':
        for (const r of request.ranges) await image.writeZeroes(r.offset, r.length);
        return { status: BlkStatus.OK, written: 0 };
      case 'reject':
        return { status: request.status, written: 0 };
    }
  } catch (error) {
    onError?.(error);
    return { status: BlkStatus.IOERR, written: 0 };
  }
}
