import { describe, expect, it } from 'vitest';
import type { CpuidEntry, Regs, Segment, Sregs } from '@isola/sys';
import { encodeDescriptor, LINUX64_GDT, PVH_GDT, segmentOf } from './gdt.js';
import { linux64Entry, pvhEntry, realModeEntry } from './modes.js';
import { identityMap4G } from './paging.js';
import { vcpuCpuid } from './cpuid.js';

const seg: Segment = { base: 0xffff0000n, limit: 0xffff, selector: 0xf000, type: 11, present: true, dpl: 0, db: false, s: true, l: false, g: false, avl: false, unusable: false };
const resetSregs = {
  cs: seg, ds: seg, es: seg, fs: seg, gs: seg, ss: seg, tr: seg, ldt: seg,
  gdt: { base: 0n, limit: 0xffff }, idt: { base: 0n, limit: 0xffff },
  cr0: 0x60000010n, cr2: 0n, cr3: 0n, cr4: 0n, cr8: 0n, efer: 0n, apicBase: 0xfee00900n, interruptBitmap: [0n, 0n, 0n, 0n],
} as Sregs;
const resetRegs = Object.fromEntries(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'].map((n) => [n, 0n])) as Regs;

describe('segment descriptors', () => {
  it('encodes the flat code and data descriptors as every PC kernel writes them', () => {
    expect(encodeDescriptor(PVH_GDT[1]!)).toBe(0x00cf9b000000ffffn);
    expect(encodeDescriptor(PVH_GDT[2]!)).toBe(0x00cf93000000ffffn);
    expect(encodeDescriptor(PVH_GDT[3]!)).toBe(0x00008b0000000067n);
    expect(encodeDescriptor({ base: 0x12345678, limit: 0xabcde, access: 0x9a, flags: 0xa })).toBe(0x12aa9a345678bcden);
  });

  it('turns a descriptor into the KVM segment a selector load gives', () => {
    expect(segmentOf(PVH_GDT[1]!, 8)).toEqual({ base: 0n, limit: 0xffffffff, selector: 8, type: 11, present: true, dpl: 0, db: true, s: true, l: false, g: true, avl: false, unusable: false });
    expect(segmentOf(PVH_GDT[3]!, 0x18)).toMatchObject({ limit: 0x67, type: 11, s: false, g: false });
  });
});

describe('entry states', () => {
  it('enters PVH kernels as the ABI says: PE only, flat 32-bit segments, busy TSS, IF clear, EBX = start_info', () => {
    const { regs, sregs } = pvhEntry(resetRegs, resetSregs, 0x1000000, 0x6000);
    expect(regs).toMatchObject({ rip: 0x1000000n, rbx: 0x6000n, rflags: 2n });
    expect(sregs.cr0 & 0x80000001n).toBe(1n);
    expect([sregs.cr4, sregs.efer, sregs.cr3]).toEqual([0n, 0n, 0n]);
    for (const s of [sregs.cs, sregs.ds, sregs.es, sregs.ss]) expect(s).toMatchObject({ base: 0n, limit: 0xffffffff, db: true, present: true, l: false });
    expect(sregs.cs.type & 0xa).toBe(0xa); // code, readable
    expect(sregs.ds.type & 0xa).toBe(0x2); // data, writable
    expect(sregs.tr).toMatchObject({ base: 0n, limit: 0x67, type: 11 });
    expect(sregs.gdt).toEqual({ base: 0x500n, limit: 31 });
  });

  it('enters flat binaries in real mode with every segment at 0', () => {
    const { regs, sregs } = realModeEntry(resetRegs, resetSregs, 0x8000);
    expect(regs).toMatchObject({ rip: 0x8000n, rflags: 2n });
    for (const s of [sregs.cs, sregs.ds, sregs.es, sregs.ss]) expect(s).toMatchObject({ base: 0n, selector: 0 });
    expect(sregs.cr0).toBe(resetSregs.cr0);
  });
});

describe('vcpuCpuid', () => {
  const supported: CpuidEntry[] = [
    { function: 1, index: 0, flags: 0, eax: 0x806c1, ebx: 0x00ff0800, ecx: 0x1c002000 | (1 << 13), edx: 0 },
    { function: 7, index: 0, flags: 1, eax: 0, ebx: 0, ecx: 0, edx: 1 << 29 },
    { function: 0xb, index: 0, flags: 1, eax: 0, ebx: 0, ecx: 0, edx: 5 },
  ];

  it('sets the APIC ID and the hypervisor bit, and hides what it is asked to', () => {
    const out = vcpuCpuid(supported, { apicId: 3, hide: ['cx16', 'xsave', 'arch-capabilities'] });
    expect(out[0]!.ebx >>> 24).toBe(3);
    expect(out[0]!.ecx & (1 << 31)).not.toBe(0);
    expect(out[0]!.ecx & ((1 << 13) | (1 << 26) | (1 << 27) | (1 << 28))).toBe(0);
    expect(out[1]!.edx).toBe(0);
    expect(out[2]!.edx).toBe(3);
    expect(supported[0]!.ebx).toBe(0x00ff0800); // the input is left alone
  });
});

describe("Linux's 64-bit boot protocol entry", () => {
  it('is long mode with paging at cr3, __BOOT_CS 0x10 64-bit code, __BOOT_DS 0x18, IF clear, RSI = boot_params', () => {
    const { regs, sregs } = linux64Entry(resetRegs, resetSregs, 0x1000200, 0x7000, 0x9000, 0x8ff0);
    expect(regs).toMatchObject({ rip: 0x1000200n, rsi: 0x7000n, rsp: 0x8ff0n, rflags: 2n, rbp: 0n, rdi: 0n, rbx: 0n });
    expect(sregs.cr0 & 0x80000001n).toBe(0x80000001n);
    expect(sregs.cr4 & 0x20n).toBe(0x20n); // PAE
    expect(sregs.efer).toBe(0x500n); // LME | LMA
    expect(sregs.cr3).toBe(0x9000n);
    expect(sregs.cs).toMatchObject({ selector: 0x10, l: true, db: false, present: true, type: 11 });
    for (const s of [sregs.ds, sregs.es, sregs.ss]) expect(s).toMatchObject({ selector: 0x18, base: 0n, limit: 0xffffffff, type: 3 });
    expect(sregs.tr).toMatchObject({ selector: 0x20, type: 11, s: false });
    expect(sregs.gdt).toEqual({ base: 0x500n, limit: 39 });
    expect(encodeDescriptor(LINUX64_GDT[2]!)).toBe(0x00af9b000000ffffn);
    expect(encodeDescriptor(LINUX64_GDT[3]!)).toBe(0x00cf93000000ffffn);
  });

  it('identity-maps 4 GiB in 2 MiB pages: PML4 → PDPT → four page directories', () => {
    const t = identityMap4G(0x9000);
    const v = new DataView(t.buffer);
    expect(t.length).toBe(6 * 4096);
    expect(v.getBigUint64(0, true)).toBe(0xa003n);
    expect(v.getBigUint64(8, true)).toBe(0n);
    expect([0, 1, 2, 3].map((i) => v.getBigUint64(4096 + 8 * i, true))).toEqual([0xb003n, 0xc003n, 0xd003n, 0xe003n]);
    expect(v.getBigUint64(4096 + 32, true)).toBe(0n);
    expect(v.getBigUint64(2 * 4096, true)).toBe(0x83n);
    expect(v.getBigUint64(2 * 4096 + 8, true)).toBe(0x200083n);
    expect(v.getBigUint64(5 * 4096 + 511 * 8, true)).toBe(0xffe00083n);
    expect(() => identityMap4G(0x9001)).toThrow(RangeError);
  });
});
