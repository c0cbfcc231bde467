// The PVH boot protocol (xen/include/public/arch-x86/hvm/start_info.h; Linux arch/x86/platform/pvh):
// the ELF says where to enter through a XEN_ELFNOTE_PHYS32_ENTRY note, the loader places the PT_LOAD
// segments at their physical addresses and hands the kernel an hvm_start_info with the command line
// and the memory map. planPvhBoot is pure: it returns what to write where and how to enter.
import { hex, hypervisorError } from '../errors.js';
import type { E820Entry } from '../machine/e820.js';
import { CMDLINE_ADDRESS, CMDLINE_MAX, PVH_START_INFO_ADDRESS } from '../machine/layout.js';
import { type ElfImage, parseElf, parseNotes } from './elf.js';
import { LeReader, LeWriter } from './endian.js';
import type { BootPlan } from './plan.js';
import { planSegments } from './segments.js';

export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
export const HVM_START_MAGIC = 0x336e_c578;
const START_INFO_SIZE = 56;
const MEMMAP_ENTRY_SIZE = 24;

/** The 32-bit entry point of a PVH kernel. */
export function findPvhEntry(bytes: Uint8Array, elf: ElfImage, name = 'kernel image'): number {
  const note = parseNotes(bytes, elf, name).find((n) => n.name === 'Xen' && n.type === XEN_ELFNOTE_PHYS32_ENTRY);
  if (!note) {
    throw hypervisorError('EPVH_NO_ENTRY', `${name}: no XEN_ELFNOTE_PHYS32_ENTRY note (type 18, owner "Xen") in a PT_NOTE segment: the kernel was built without CONFIG_PVH`, {});
  }
  // Linux emits the address as a pointer-sized value (8 bytes); other kernels as 4.
  if (note.desc.length !== 4 && note.desc.length !== 8) {
    throw hypervisorError('EELF_NOTE', `${name}: XEN_ELFNOTE_PHYS32_ENTRY has a ${note.desc.length}-byte value, expected 4 or 8`, { length: note.desc.length });
  }
  const r = new LeReader(note.desc, name, 'EELF_NOTE');
  const entry = note.desc.length === 8 ? r.u64(0, 'PHYS32_ENTRY') : r.u32(0, 'PHYS32_ENTRY');
  if (entry >= 2 ** 32) throw hypervisorError('EELF_NOTE', `${name}: PHYS32_ENTRY ${hex(entry)} is above 4 GiB`, { entry });
  return entry;
}

export interface StartInfo {
  cmdlineAddress: number;
  memmapAddress: number;
  memmap: readonly E820Entry[];
  rsdpAddress?: number;
}

/** hvm_start_info (version 1) followed by nothing: the memory map goes at memmapAddress. */
export function encodeStartInfo(info: StartInfo): Uint8Array {
  const w = new LeWriter(START_INFO_SIZE);
  w.u32(0, HVM_START_MAGIC);
  w.u32(4, 1); // version 1: has the memory map
  w.u32(8, 0); // flags
  w.u32(12, 0); // nr_modules
  w.u64(16, 0); // modlist_paddr
  w.u64(24, info.cmdlineAddress);
  w.u64(32, info.rsdpAddress ?? 0);
  w.u64(40, info.memmapAddress);
  w.u32(48, info.memmap.length);
  return w.bytes;
}

export function encodeMemmap(entries: readonly E820Entry[]): Uint8Array {
  const w = new LeWriter(entries.length * MEMMAP_ENTRY_SIZE);
  entries.forEach((e, i) => {
    w.u64(i * MEMMAP_ENTRY_SIZE, e.address);
    w.u64(i * MEMMAP_ENTRY_SIZE + 8, e.size);
    w.u32(i * MEMMAP_ENTRY_SIZE + 16, e.type);
  });
  return w.bytes;
}

export function encodeCmdline(cmdline: string): Uint8Array {
  const bytes = Buffer.from(`${cmdline}\0`, 'utf8');
  if (bytes.length > CMDLINE_MAX) {
    throw hypervisorError('EVM_CONFIG', `the kernel command line is ${bytes.length} bytes, more than ${CMDLINE_MAX}`, { length: bytes.length });
  }
  return new Uint8Array(bytes);
}

export interface PvhOptions {
  cmdline?: string;
  memmap: readonly E820Entry[];
  /** Whether [address, address + size) is guest RAM. */
  isRam(address: number, size: number): boolean;
  rsdpAddress?: number;
  name?: string;
}

export function planPvhBoot(image: Uint8Array, options: PvhOptions): BootPlan {
  const name = options.name ?? 'kernel image';
  const elf = parseElf(image, name);
  const entry = findPvhEntry(image, elf, name);
  const plan: BootPlan = { writes: [], zeroes: [], entry: { mode: 'pvh', rip: entry, startInfo: PVH_START_INFO_ADDRESS } };
  planSegments(image, elf, plan, options.isRam, name);
  const memmapAddress = PVH_START_INFO_ADDRESS + START_INFO_SIZE;
  plan.writes.push({
    address: PVH_START_INFO_ADDRESS,
    bytes: encodeStartInfo({ cmdlineAddress: CMDLINE_ADDRESS, memmapAddress, memmap: options.memmap, rsdpAddress: options.rsdpAddress }),
    what: 'hvm_start_info',
  });
  plan.writes.push({ address: memmapAddress, bytes: encodeMemmap(options.memmap), what: 'PVH memory map' });
  plan.writes.push({ address: CMDLINE_ADDRESS, bytes: encodeCmdline(options.cmdline ?? ''), what: 'command line' });
  return plan;
}
