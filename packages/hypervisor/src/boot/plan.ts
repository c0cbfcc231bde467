// What a boot path decided, applied to guest memory by one executor: the planners stay pure.
import { BOOT_GDT_ADDRESS } from '../machine/layout.js';
import type { GuestMemory } from '../machine/memory.js';
import { encodeGdt, identityMap4G, LINUX64_GDT, PVH_GDT } from '../arch/x86_64/index.js';

export type BootEntry =
  /** Real mode, CS = 0, IP = rip. */
  | { mode: 'real'; rip: number }
  /** 32-bit protected mode per the PVH ABI, EBX = startInfo. */
  | { mode: 'pvh'; rip: number; startInfo: number }
  /** Long mode per Linux's 64-bit boot protocol: RSI = bootParams, identity-mapped page tables at cr3. */
  | { mode: 'linux64'; rip: number; bootParams: number; cr3: number; stack: number };

export interface BootPlan {
  writes: { address: number; bytes: Uint8Array; what: string }[];
  zeroes: { address: number; length: number }[];
  entry: BootEntry;
}

export function applyBootPlan(plan: BootPlan, memory: GuestMemory): void {
  for (const w of plan.writes) memory.write(w.address, w.bytes);
  for (const z of plan.zeroes) memory.slice(z.address, z.length).fill(0);
  if (plan.entry.mode === 'pvh') memory.write(BOOT_GDT_ADDRESS, encodeGdt(PVH_GDT));
  if (plan.entry.mode === 'linux64') {
    memory.write(BOOT_GDT_ADDRESS, encodeGdt(LINUX64_GDT));
    memory.write(plan.entry.cr3, identityMap4G(plan.entry.cr3));
  }
}
