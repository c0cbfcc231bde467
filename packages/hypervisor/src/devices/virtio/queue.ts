// A split virtqueue as the device drives it (virtio 1.2, 2.7): take heads from the available ring,
// hand completed chains back through the used ring. open() checks the layout the driver programmed
// (size, alignment, every ring inside RAM) once, so later accesses are plain views of guest memory.
import { parseChain, DESCRIPTOR_SIZE, type ChainResult } from './chain.js';
import { le, type GuestRam } from './ram.js';
import { AVAIL_F_NO_INTERRUPT } from './spec.js';

/** Where the driver put a queue (QueueDesc, QueueDriver, QueueDevice) and its size (QueueNum). */
export interface QueueLayout {
  size: number;
  desc: number;
  avail: number;
  used: number;
}

export const MAX_QUEUE_SIZE = 32768;

export class SplitQueue {
  readonly layout: QueueLayout;
  readonly #ram: GuestRam;
  readonly #avail: Uint8Array;
  readonly #used: Uint8Array;
  readonly #indirect: boolean;
  #nextAvail = 0;
  #nextUsed = 0;

  private constructor(ram: GuestRam, layout: QueueLayout, avail: Uint8Array, used: Uint8Array, indirect: boolean) {
    this.#ram = ram;
    this.layout = layout;
    this.#avail = avail;
    this.#used = used;
    this.#indirect = indirect;
  }

  /** The queue, or why the driver's layout is unusable. */
  static open(ram: GuestRam, layout: QueueLayout, options: { indirect: boolean }): SplitQueue | { reason: string } {
    const { size, desc, avail, used } = layout;
    if (size === 0 || size > MAX_QUEUE_SIZE || (size & (size - 1)) !== 0) return { reason: `queue size ${size} is not a power of 2 up to ${MAX_QUEUE_SIZE}` };
    if (desc % 16 || avail % 2 || used % 4) return { reason: `queue rings at desc 0x${desc.toString(16)}, avail 0x${avail.toString(16)}, used 0x${used.toString(16)} are misaligned` };
    if (!ram.view(desc, size * DESCRIPTOR_SIZE)) return { reason: `descriptor table at 0x${desc.toString(16)} is not in guest RAM` };
    const availRing = ram.view(avail, 6 + 2 * size);
    if (!availRing) return { reason: `available ring at 0x${avail.toString(16)} is not in guest RAM` };
    const usedRing = ram.view(used, 6 + 8 * size);
    if (!usedRing) return { reason: `used ring at 0x${used.toString(16)} is not in guest RAM` };
    return new SplitQueue(ram, layout, availRing, usedRing, options.indirect);
  }

  /** The next chain the driver made available, undefined when there is none. */
  pop(): ChainResult | undefined {
    const size = this.layout.size;
    const pending = (le.u16(this.#avail, 2) - this.#nextAvail) & 0xffff;
    if (pending === 0) return undefined;
    if (pending > size) return { ok: false, reason: `available index moved ${pending} entries ahead on a ${size}-entry queue` };
    const head = le.u16(this.#avail, 4 + 2 * (this.#nextAvail % size));
    this.#nextAvail = (this.#nextAvail + 1) & 0xffff;
    return parseChain(this.#ram, this.layout.desc, size, head, { indirect: this.#indirect });
  }

  /** Returns chain `head` to the driver, `written` bytes of its writable buffers filled. */
  push(head: number, written: number): void {
    const slot = 4 + 8 * (this.#nextUsed % this.layout.size);
    le.setU32(this.#used, slot, head);
    le.setU32(this.#used, slot + 4, written);
    this.#nextUsed = (this.#nextUsed + 1) & 0xffff;
    // The element is written before the index that publishes it (x86 keeps stores in order).
    le.setU16(this.#used, 2, this.#nextUsed);
  }

  /** False when the driver suppressed interrupts for this queue (VIRTQ_AVAIL_F_NO_INTERRUPT). */
  wantsInterrupt(): boolean {
    return (le.u16(this.#avail, 0) & AVAIL_F_NO_INTERRUPT) === 0;
  }
}
