// The vCPU state each boot path starts a guest in, as changes to KVM's reset state: pure functions from
// (registers as KVM reports them) to (registers to set), so they are unit-tested field by field.
import type { Regs, Sregs } from '@isola/sys';
import { BOOT_GDT_ADDRESS, BOOT_IDT_ADDRESS } from '../../machine/layout.js';
import { LINUX64_GDT, PVH_GDT, segmentOf } from './gdt.js';

const CR0_PE = 0x1n;
const CR0_ET = 0x10n;
const CR0_PG = 0x8000_0000n;
const CR4_PAE = 0x20n;
const EFER_LME = 0x100n;
const EFER_LMA = 0x400n;
/** RFLAGS bit 1 is reserved and always set. */
const RFLAGS_RESERVED = 0x2n;

export interface EntryState {
  regs: Regs;
  sregs: Sregs;
}

/** Real mode at physical `entry` (< 64 KiB), CS = DS = ES = SS = 0. */
export function realModeEntry(regs: Regs, sregs: Sregs, entry: number): EntryState {
  const zero = (s: Sregs['cs']) => ({ ...s, base: 0n, selector: 0, limit: 0xffff });
  return {
    regs: { ...regs, rip: BigInt(entry), rflags: RFLAGS_RESERVED, rsp: BigInt(entry) },
    sregs: { ...sregs, cs: zero(sregs.cs), ds: zero(sregs.ds), es: zero(sregs.es), ss: zero(sregs.ss), fs: zero(sregs.fs), gs: zero(sregs.gs) },
  };
}

/**
 * The PVH boot ABI's entry state (xen/include/public/arch-x86/hvm/start_info.h): 32-bit protected mode,
 * paging off, CS a flat 32-bit code segment, DS/ES/SS flat data, TR a busy 32-bit TSS, interrupts off,
 * EBX = the physical address of hvm_start_info.
 */
export function pvhEntry(regs: Regs, sregs: Sregs, entry: number, startInfo: number): EntryState {
  const [, code, data, tss] = PVH_GDT;
  const ds = segmentOf(data!, 0x10);
  return {
    regs: { ...regs, rip: BigInt(entry), rbx: BigInt(startInfo), rflags: RFLAGS_RESERVED },
    sregs: {
      ...sregs,
      cs: segmentOf(code!, 0x08),
      ds,
      es: ds,
      fs: ds,
      gs: ds,
      ss: ds,
      tr: segmentOf(tss!, 0x18),
      gdt: { base: BigInt(BOOT_GDT_ADDRESS), limit: PVH_GDT.length * 8 - 1 },
      idt: { base: BigInt(BOOT_IDT_ADDRESS), limit: 0 },
      cr0: CR0_PE | CR0_ET,
      cr3: 0n,
      cr4: 0n,
      efer: 0n,
    },
  };
}

/**
 * Linux's 64-bit boot protocol entry (boot.rst, "64-bit Boot Protocol"): long mode with paging on and
 * an identity map at `cr3`, CS = __BOOT_CS (0x10), DS = ES = SS = __BOOT_DS (0x18), interrupts off,
 * RSI = the physical address of boot_params. RSP points at a small stack below the page tables.
 */
export function linux64Entry(regs: Regs, sregs: Sregs, entry: number, bootParams: number, cr3: number, stack: number): EntryState {
  const [, , code, data, tss] = LINUX64_GDT;
  const ds = segmentOf(data!, 0x18);
  return {
    regs: { ...regs, rip: BigInt(entry), rsi: BigInt(bootParams), rsp: BigInt(stack), rbp: 0n, rdi: 0n, rbx: 0n, rflags: RFLAGS_RESERVED },
    sregs: {
      ...sregs,
      cs: segmentOf(code!, 0x10),
      ds,
      es: ds,
      fs: ds,
      gs: ds,
      ss: ds,
      tr: segmentOf(tss!, 0x20),
      gdt: { base: BigInt(BOOT_GDT_ADDRESS), limit: LINUX64_GDT.length * 8 - 1 },
      idt: { base: BigInt(BOOT_IDT_ADDRESS), limit: 0 },
      cr0: CR0_PE | CR0_ET | CR0_PG,
      cr3: BigInt(cr3),
      cr4: CR4_PAE,
      efer: EFER_LME | EFER_LMA,
    },
  };
}
