// Descriptor chains of a split virtqueue (virtio 1.2, 2.7.5): a pure walk from a head index to the
// guest buffers it names, readable ones first, then writable ones. Everything a guest can get wrong is
// a ChainError, not an exception: a loop, an index past the table, a buffer outside RAM, a readable
// buffer after a writable one, an indirect table that is nested, misaligned or not allowed. The caller
// then puts the device in DEVICE_NEEDS_RESET.
import { DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE } from './spec.js';
import { le, type GuestRam } from './ram.js';

export const DESCRIPTOR_SIZE = 16;

export interface Segment {
  address: number;
  length: number;
}

export interface DescriptorChain {
  /** The head's index in the descriptor table: what goes back in the used ring. */
  head: number;
  readable: Segment[];
  writable: Segment[];
}

export type ChainResult = { ok: true; chain: DescriptorChain } | { ok: false; reason: string };

export interface ChainOptions {
  /** VIRTIO_F_RING_INDIRECT_DESC was negotiated. */
  indirect: boolean;
}

const fail = (reason: string): ChainResult => ({ ok: false, reason });

/** Walks the chain starting at `head` in the descriptor table at `table` of `size` entries. */
export function parseChain(ram: GuestRam, table: number, size: number, head: number, options: ChainOptions): ChainResult {
  if (head >= size) return fail(`head ${head} is past the ${size}-entry descriptor table`);
  const readable: Segment[] = [];
  const writable: Segment[] = [];
  let base = table;
  let entries = size;
  let index = head;
  let walked = 0;
  let indirect = false;
  for (;;) {
    const desc = ram.view(base + index * DESCRIPTOR_SIZE, DESCRIPTOR_SIZE);
    if (!desc) return fail(`descriptor ${index} at 0x${(base + index * DESCRIPTOR_SIZE).toString(16)} is not in guest RAM`);
    const address = le.u64(desc, 0);
    const length = le.u32(desc, 8);
    const flags = le.u16(desc, 12);
    const next = le.u16(desc, 14);
    if (address === undefined) return fail(`descriptor ${index} has an address past 2^53`);
    if (flags & DESC_F_INDIRECT) {
      if (!options.indirect) return fail(`descriptor ${index} is indirect, but VIRTIO_F_RING_INDIRECT_DESC was not negotiated`);
      if (indirect) return fail('an indirect table names another indirect table');
      if (walked > 0) return fail(`indirect descriptor ${index} follows direct ones`);
      if (flags & DESC_F_NEXT) return fail(`indirect descriptor ${index} also has NEXT set`);
      if (length === 0 || length % DESCRIPTOR_SIZE !== 0) return fail(`indirect table of ${length} bytes is not a whole number of descriptors`);
      if (!ram.view(address, length)) return fail(`indirect table [0x${address.toString(16)}, +${length}) is not in guest RAM`);
      base = address;
      entries = length / DESCRIPTOR_SIZE;
      index = 0;
      indirect = true;
      continue;
    }
    // A well-formed chain visits each entry at most once: more steps than entries is a loop.
    if (++walked > entries) return fail(`the chain from head ${head} loops (more than ${entries} descriptors)`);
    if (length > 0 && !ram.view(address, length)) return fail(`buffer [0x${address.toString(16)}, +${length}) of descriptor ${index} is not in guest RAM`);
    if (flags & DESC_F_WRITE) writable.push({ address, length });
    else if (writable.length > 0) return fail(`readable descriptor ${index} follows a writable one`);
    else readable.push({ address, length });
    if (!(flags & DESC_F_NEXT)) return { ok: true, chain: { head, readable, writable } };
    if (next >= entries) return fail(`descriptor ${index} links to ${next}, past the ${entries}-entry table`);
    index = next;
  }
}

/** Copies up to `length` bytes from the start of `segments` (which parseChain checked are RAM). */
export function gather(ram: GuestRam, segments: readonly Segment[], length: number, skip = 0): Uint8Array {
  const out = new Uint8Array(length);
  let filled = 0;
  for (const s of segments) {
    if (filled === length) break;
    if (skip >= s.length) {
      skip -= s.length;
      continue;
    }
    const n = Math.min(s.length - skip, length - filled);
    out.set(ram.view(s.address + skip, n)!, filled);
    filled += n;
    skip = 0;
  }
  return out.subarray(0, filled);
}

/** The segments covering bytes [from, from + length) of `segments` laid end to end. */
export function carve(segments: readonly Segment[], from: number, length: number): Segment[] {
  const out: Segment[] = [];
  let skip = from;
  let left = length;
  for (const s of segments) {
    if (left === 0) break;
    if (skip >= s.length) {
      skip -= s.length;
      continue;
    }
    const n = Math.min(s.length - skip, left);
    out.push({ address: s.address + skip, length: n });
    left -= n;
    skip = 0;
  }
  return out;
}

export function totalLength(segments: readonly Segment[]): number {
  return segments.reduce((sum, s) => sum + s.length, 0);
}
