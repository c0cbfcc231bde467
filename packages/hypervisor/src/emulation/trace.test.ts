// Trace lines for MMIO exits against a fake vCPU: reads name the instruction at RIP, writes the one
// that ends at RIP (KVM has already moved past it), found by the address it stores to.
import { afterEach, describe, expect, it } from 'vitest';
import type { Regs, Sregs, VcpuExit } from '@isola/sys';
import * as wasm from '@isola/wasm';
import { GuestMemory } from '../machine/memory.js';
import { traceMmio } from './trace.js';

const zero = Object.fromEntries(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'].map((n) => [n, 0n])) as Regs;
const flat32 = { cr0: 1n, cr3: 0n, cr4: 0n, efer: 0n, cs: { l: false, db: true, base: 0n }, ss: { base: 0n }, ds: { base: 0n }, es: { base: 0n }, fs: { base: 0n }, gs: { base: 0n } } as unknown as Sregs;
let memory: GuestMemory;
afterEach(() => memory?.close());

function trace(code: number[], regs: Partial<Regs>, exit: Omit<Extract<VcpuExit, { kind: 'mmio' }>, 'kind' | 'length'>, emulator: typeof wasm | null = wasm) {
  memory = GuestMemory.allocate(2 << 20);
  memory.write(0x1000, Uint8Array.from(code));
  const vcpu = { getRegs: () => ({ ...zero, ...regs }), getSregs: () => flat32 };
  return traceMmio({ kind: 'mmio', length: exit.data.length, ...exit }, vcpu, memory, emulator ?? undefined);
}

describe('traceMmio', () => {
  it('names a read by the instruction at RIP, with the data the device returned', () => {
    expect(trace([0x8b, 0x43, 0x04], { rip: 0x1000n, rbx: 0xd000_0000n }, { address: 0xd000_0004n, isWrite: false, data: Uint8Array.of(1, 2, 3, 4) })).toBe(
      'mmio read 4 bytes at 0xd0000004 = 0x04030201  rip=0x1000  mov eax, dword ptr [ebx+4]',
    );
  });

  it('names a write by the instruction that ends at RIP and stores to the address', () => {
    // 66 89 43 04 is mov [ebx+4], ax; the 3 bytes 89 43 04 alone would be a 4-byte store to the same place.
    expect(trace([0x90, 0x66, 0x89, 0x43, 0x04], { rip: 0x1005n, rbx: 0xd000_0000n }, { address: 0xd000_0004n, isWrite: true, data: Uint8Array.of(0x34, 0x12) })).toBe(
      'mmio write 2 bytes at 0xd0000004 = 0x1234  rip=0x1001  mov word ptr [ebx+4], ax',
    );
  });

  it('keeps RIP for a REP string store that KVM repeats', () => {
    expect(trace([0xf3, 0xab], { rip: 0x1000n, rdi: 0xd000_0010n, rcx: 3n }, { address: 0xd000_0010n, isWrite: true, data: Uint8Array.of(0, 0, 0, 0) })).toBe(
      'mmio write 4 bytes at 0xd0000010 = 0x00000000  rip=0x1000  rep stosd dword ptr [edi]',
    );
  });

  it('says so when no instruction before RIP stores there, or the emulator is missing', () => {
    expect(trace([0x90, 0x90, 0x90], { rip: 0x1003n }, { address: 0xd000_0000n, isWrite: true, data: Uint8Array.of(1) })).toBe(
      'mmio write 1 byte at 0xd0000000 = 0x01  rip=0x1003  (the instruction before rip is not identified)',
    );
    expect(trace([0x90], { rip: 0x1000n }, { address: 0xd000_0000n, isWrite: false, data: Uint8Array.of(1) }, null)).toBe(
      'mmio read 1 byte at 0xd0000000 = 0x01  rip=0x1000  (the x86 emulator is not loaded)',
    );
  });
});
