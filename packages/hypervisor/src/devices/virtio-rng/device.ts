// virtio-rng (entropy device, ID 4): one queue of writable buffers, each filled from the host's
// cryptographic RNG (node:crypto, i.e. the kernel's getrandom). No features, no config space.
import { randomFillSync } from 'node:crypto';
import type { DescriptorChain } from '../virtio/chain.js';
import type { Served, VirtioDeviceModel } from '../virtio/device.js';
import type { GuestRam } from '../virtio/ram.js';
import { DeviceId } from '../virtio/spec.js';

export const RNG_QUEUE_SIZE = 64;
/** Bytes filled per request at most: a guest asking for gigabytes gets this much and asks again. */
export const MAX_FILL = 64 << 10;

export class VirtioRng implements VirtioDeviceModel {
  readonly name = 'virtio-rng';
  readonly deviceId = DeviceId.ENTROPY;
  readonly features = 0n;
  readonly queueMax = [RNG_QUEUE_SIZE];
  readonly config = new Uint8Array(0);

  serve(_queue: number, chain: DescriptorChain, ram: GuestRam): Served {
    let filled = 0;
    for (const s of chain.writable) {
      const n = Math.min(s.length, MAX_FILL - filled);
      if (n === 0) break;
      randomFillSync(ram.view(s.address, n)!);
      filled += n;
    }
    return filled;
  }
}
