// How virtio code sees guest RAM: live little-endian views by guest-physical address. GuestMemory is one
// (ramOf); tests build an ArrayRam from a plain buffer, so queue and device logic runs without KVM.
import type { GuestMemory } from '../../machine/memory.js';

export interface GuestRam {
  /** A live view of [address, address + length), or undefined when any of it is not RAM. */
  view(address: number, length: number): Uint8Array | undefined;
}

/** GuestMemory as GuestRam. A range crossing two memory slots counts as not RAM (slots are 2 GiB). */
export function ramOf(memory: Pick<GuestMemory, 'find' | 'slice'>): GuestRam {
  return {
    view(address, length) {
      if (!Number.isSafeInteger(address) || !Number.isSafeInteger(length) || address < 0 || length < 0) return undefined;
      return memory.find(address, Math.max(length, 1)) ? memory.slice(address, length) : undefined;
    },
  };
}

/** RAM at [base, base + bytes.length): a test's guest memory. */
export class ArrayRam implements GuestRam {
  readonly bytes: Uint8Array;
  readonly base: number;

  constructor(size: number, base = 0) {
    this.bytes = new Uint8Array(size);
    this.base = base;
  }

  view(address: number, length: number): Uint8Array | undefined {
    const at = address - this.base;
    if (!Number.isSafeInteger(at) || !Number.isSafeInteger(length) || at < 0 || length < 0 || at + length > this.bytes.length) return undefined;
    return this.bytes.subarray(at, at + length);
  }
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const le = {
  u16: (bytes: Uint8Array, at: number): number => dataView(bytes).getUint16(at, true),
  u32: (bytes: Uint8Array, at: number): number => dataView(bytes).getUint32(at, true),
  /** A 64-bit field as a number, or undefined past 2^53 (no guest address is that large). */
  u64: (bytes: Uint8Array, at: number): number | undefined => {
    const v = dataView(bytes).getBigUint64(at, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
  },
  setU16: (bytes: Uint8Array, at: number, value: number): void => dataView(bytes).setUint16(at, value, true),
  setU32: (bytes: Uint8Array, at: number, value: number): void => dataView(bytes).setUint32(at, value, true),
  setU64: (bytes: Uint8Array, at: number, value: number | bigint): void => dataView(bytes).setBigUint64(at, BigInt(value), true),
};
