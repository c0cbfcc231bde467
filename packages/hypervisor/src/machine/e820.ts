// The guest's memory map as PC firmware reports it (e820 types), derived from the RAM regions. Pure:
// the PVH start_info and the Linux boot_params both encode it.
import { EBDA_START, HIGH_MEMORY_START } from './layout.js';
import type { RegionPlan } from './memory.js';

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;

export interface E820Entry {
  address: number;
  size: number;
  type: number;
}

/** RAM below the EBDA, then RAM from 1 MiB on; the legacy area between is left out, as firmware does. */
export function e820Map(regions: readonly RegionPlan[]): E820Entry[] {
  const entries: E820Entry[] = [];
  for (const { guestAddress: start, size } of regions) {
    const end = start + size;
    if (start < EBDA_START) entries.push({ address: start, size: Math.min(end, EBDA_START) - start, type: E820_RAM });
    const high = Math.max(start, HIGH_MEMORY_START);
    if (end > high) {
      const last = entries.at(-1);
      // Regions split for size reasons are one range to the guest.
      if (last && last.type === E820_RAM && last.address + last.size === high) last.size += end - high;
      else entries.push({ address: high, size: end - high, type: E820_RAM });
    }
  }
  return entries;
}
