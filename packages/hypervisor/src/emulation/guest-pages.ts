// Guest-virtual to guest-physical translation for reading the guest's own code (the bytes at RIP, for
// --trace-mmio): a walk of the page tables the guest set up, as the CPU does for an instruction fetch,
// without permission checks or accessed/dirty bits (a trace must not change the guest). Covers 32-bit
// paging (4 MiB pages with CR4.PSE), PAE, and 4- and 5-level long-mode paging with large pages.
// The x86 emulator (@isola/wasm) has its own walk, with permission checks, for the accesses it executes.
import type { Sregs } from '@isola/sys';
import type { GuestMemory } from '../machine/memory.js';

const CR0_PE = 1n;
const CR0_PG = 1n << 31n;
const CR4_PSE = 1n << 4n;
const CR4_PAE = 1n << 5n;
const CR4_LA57 = 1n << 12n;
const EFER_LMA = 1n << 10n;
const PRESENT = 1n;
const PAGE_SIZE_BIT = 1n << 7n;
const ADDRESS_MASK = 0x000f_ffff_ffff_f000n;

export type PagingRegisters = Pick<Sregs, 'cr0' | 'cr3' | 'cr4' | 'efer'>;

function entry(memory: GuestMemory, address: bigint, size: 4 | 8): bigint | undefined {
  if (!memory.find(address, size)) return undefined;
  const bytes = memory.slice(address, size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  return size === 8 ? view.getBigUint64(0, true) : BigInt(view.getUint32(0, true));
}

/** The guest-physical address of a linear address, or undefined when it is not mapped. */
export function translate(memory: GuestMemory, paging: PagingRegisters, linear: bigint): bigint | undefined {
  if ((paging.cr0 & CR0_PE) === 0n || (paging.cr0 & CR0_PG) === 0n) return linear;
  if ((paging.cr4 & CR4_PAE) === 0n) {
    // 32-bit paging: two levels of 4-byte entries.
    const pde = entry(memory, (paging.cr3 & 0xffff_f000n) + ((linear >> 22n) & 0x3ffn) * 4n, 4);
    if (pde === undefined || (pde & PRESENT) === 0n) return undefined;
    if ((pde & PAGE_SIZE_BIT) !== 0n && (paging.cr4 & CR4_PSE) !== 0n) return (pde & 0xffc0_0000n) + (linear & 0x3f_ffffn);
    const pte = entry(memory, (pde & 0xffff_f000n) + ((linear >> 12n) & 0x3ffn) * 4n, 4);
    if (pte === undefined || (pte & PRESENT) === 0n) return undefined;
    return (pte & 0xffff_f000n) + (linear & 0xfffn);
  }
  const longMode = (paging.efer & EFER_LMA) !== 0n;
  // Levels from the top: the shift of the index each one takes from the address.
  const shifts = longMode ? ((paging.cr4 & CR4_LA57) !== 0n ? [48n, 39n, 30n, 21n, 12n] : [39n, 30n, 21n, 12n]) : [30n, 21n, 12n];
  // PAE's CR3 points at a 32-byte-aligned table of four PDPTEs.
  let table = longMode ? paging.cr3 & ADDRESS_MASK : paging.cr3 & 0xffff_ffe0n;
  for (const [level, shift] of shifts.entries()) {
    const e = entry(memory, table + ((linear >> shift) & 0x1ffn) * 8n, 8);
    if (e === undefined || (e & PRESENT) === 0n) return undefined;
    const last = shift === 12n;
    // Large pages: 1 GiB (long-mode PDPTE) and 2 MiB (PDE); PAE's PDPTEs have no PS bit.
    const large = !last && shift <= 30n && (e & PAGE_SIZE_BIT) !== 0n && (longMode || level > 0);
    if (last || large) {
      const offsetMask = (1n << shift) - 1n;
      return (e & ADDRESS_MASK & ~offsetMask) + (linear & offsetMask);
    }
    table = e & ADDRESS_MASK;
  }
  return undefined;
}

/**
 * Up to length bytes of guest code at cs:rip, page by page; fewer when the code runs into an unmapped
 * page or into memory that is not RAM.
 */
export function readGuestCode(memory: GuestMemory, sregs: Sregs, rip: bigint, length: number): Uint8Array {
  const longMode = (sregs.efer & EFER_LMA) !== 0n && sregs.cs.l;
  let linear = longMode ? rip : (sregs.cs.base + rip) & 0xffff_ffffn;
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const physical = translate(memory, sregs, linear);
    const chunk = Math.min(length - filled, 4096 - Number(linear & 0xfffn));
    if (physical === undefined || !memory.find(physical, chunk)) break;
    out.set(memory.slice(physical, chunk), filled);
    filled += chunk;
    linear += BigInt(chunk);
  }
  return out.subarray(0, filled);
}
