// Segment descriptors, both as the 8 bytes a GDT holds and as the KVM segment a vCPU's hidden state
// takes: the boot paths write a GDT for the guest and load the same values into the vCPU, so a guest
// that reloads a selector gets what it already had.
import type { Segment } from '@isola/sys';

export interface Descriptor {
  base: number;
  /** In bytes-1 units, or 4 KiB units when granularity is set. */
  limit: number;
  /** The access byte: P, DPL, S, type. */
  access: number;
  /** The flags nibble: G, D/B, L, AVL. */
  flags: number;
}

export function encodeDescriptor(d: Descriptor): bigint {
  const limit = BigInt(d.limit);
  const base = BigInt(d.base);
  return (
    (limit & 0xffffn) |
    ((base & 0xff_ffffn) << 16n) |
    (BigInt(d.access & 0xff) << 40n) |
    (((limit >> 16n) & 0xfn) << 48n) |
    (BigInt(d.flags & 0xf) << 52n) |
    (((base >> 24n) & 0xffn) << 56n)
  );
}

/** The KVM view of a descriptor loaded with `selector`. */
export function segmentOf(d: Descriptor, selector: number): Segment {
  const g = (d.flags & 0x8) !== 0;
  return {
    base: BigInt(d.base),
    limit: g ? d.limit * 4096 + 4095 : d.limit,
    selector,
    type: d.access & 0xf,
    present: (d.access & 0x80) !== 0,
    dpl: (d.access >> 5) & 3,
    db: (d.flags & 0x4) !== 0,
    s: (d.access & 0x10) !== 0,
    l: (d.flags & 0x2) !== 0,
    g,
    avl: (d.flags & 0x1) !== 0,
    unusable: false,
  };
}

/** The GDT the PVH path describes: null, 32-bit code (0x08), data (0x10), a busy 32-bit TSS (0x18). */
export const PVH_GDT: readonly Descriptor[] = [
  { base: 0, limit: 0, access: 0, flags: 0 },
  { base: 0, limit: 0xfffff, access: 0x9b, flags: 0xc },
  { base: 0, limit: 0xfffff, access: 0x93, flags: 0xc },
  { base: 0, limit: 0x67, access: 0x8b, flags: 0 },
];

export function encodeGdt(entries: readonly Descriptor[]): Uint8Array {
  const out = new Uint8Array(entries.length * 8);
  const view = new DataView(out.buffer);
  entries.forEach((d, i) => view.setBigUint64(i * 8, encodeDescriptor(d), true));
  return out;
}

/**
 * The GDT of Linux's 64-bit boot protocol (boot.rst): __BOOT_CS at 0x10 (64-bit code) and __BOOT_DS
 * at 0x18 (flat data), both 4 GiB; a busy 64-bit TSS at 0x20 for TR, which VM entry requires.
 */
export const LINUX64_GDT: readonly Descriptor[] = [
  { base: 0, limit: 0, access: 0, flags: 0 },
  { base: 0, limit: 0, access: 0, flags: 0 },
  { base: 0, limit: 0xfffff, access: 0x9b, flags: 0xa },
  { base: 0, limit: 0xfffff, access: 0x93, flags: 0xc },
  { base: 0, limit: 0x67, access: 0x8b, flags: 0 },
];
