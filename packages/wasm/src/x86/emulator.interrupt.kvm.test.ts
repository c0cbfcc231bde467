// INT3 and INT n against the truth. Under PVM, KVM fails on both (an emulation-failure exit), but it
// delivers exceptions through the IDT itself: `ud2` raises #UD, which a real vCPU pushes through a
// gate of the same kind. So each case runs twice from the same registers: `ud2` natively, through
// gate 6; the INT instruction through the emulator, whose registers go back into the vCPU. Both
// gates lead to a `hlt`; the two must arrive with the same RSP, RFLAGS and CS and leave the same
// five-word frame, but for the pushed RIP (a fault pushes the instruction's own, a trap the next one).
import { describe, expect } from 'vitest';
import { Kvm, mmap, type Regs } from '@isola/sys';
import { itNeeds } from '../../../../test/support/requirements.js';
import { emulate, type EmulatorCpu } from './emulator.js';

const IDT = 0x5000;
const GDT = 0x6000;
const TSS = 0x7000;
const IST1 = 0x9800n; // the top of the IST1 stack
const CODE = 0x10000;
const HANDLERS = 0x11000; // vector n's handler: a hlt at HANDLERS + n
const RF = 0x10000n;

interface Gate {
  type: 14 | 15; // interrupt gate, trap gate
  ist: number;
}

function machine() {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const ram = mmap(4 << 20);
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram.address });
  const view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.bytes.byteLength);
  const u64 = (at: number, v: bigint) => view.setBigUint64(at, v, true);
  u64(0x1000, 0x2000n | 0x63n); // PML4 → PDPT → PD, two identity-mapped 2 MiB pages
  u64(0x2000, 0x3000n | 0x63n);
  u64(0x3000, 0x0n | 0xe3n);
  u64(0x3008, 0x200000n | 0xe3n);
  u64(GDT + 8, 0x0020_9a00_0000_0000n); // 0x08: 64-bit code, DPL 0
  u64(GDT + 16, 0x0000_9200_0000_0000n); // 0x10: data
  u64(GDT + 24, 0x0000_8b00_0000_0067n | (BigInt(TSS & 0xffffff) << 16n)); // 0x18: busy 64-bit TSS
  u64(TSS + 36, IST1);
  const vcpu = vm.createVcpu(0);
  const sregs = vcpu.getSregs();
  const code = { ...sregs.cs, base: 0n, limit: 0xffffffff, selector: 8, type: 11, present: true, dpl: 0, db: false, s: true, l: true, g: true, unusable: false };
  const data = { ...code, selector: 16, type: 3, l: false, db: true };
  const tr = { ...code, selector: 0x18, base: BigInt(TSS), limit: 0x67, type: 11, s: false, l: false, g: false };
  vcpu.setSregs({ ...sregs, cs: code, ds: data, es: data, ss: data, fs: data, gs: data, tr, cr0: 0x8000_0033n, cr3: 0x1000n, cr4: 0x620n, efer: 0x500n, gdt: { base: BigInt(GDT), limit: 0x27 }, idt: { base: BigInt(IDT), limit: 0xfff } });
  const gate = (vector: number, { type, ist }: Gate) => {
    const target = HANDLERS + vector;
    u64(IDT + 16 * vector, BigInt(target & 0xffff) | (8n << 16n) | (BigInt(ist) << 32n) | (BigInt(0x80 | type) << 40n) | (BigInt(target >>> 16) << 48n));
    u64(IDT + 16 * vector + 8, 0n);
    ram.bytes[target] = 0xf4;
  };
  const close = () => {
    vcpu.close();
    vm.close();
    kvm.close();
    ram.unmap();
  };
  return { vcpu, ram, view, gate, close };
}

interface Arrival {
  rip: bigint;
  rsp: bigint;
  rflags: bigint;
  cs: number;
  frame: bigint[]; // RIP, CS, RFLAGS, RSP, SS as pushed
}

describe('x86 emulator: INT3 and INT n against KVM delivering #UD', () => {
  itNeeds({ kvm: true })('delivers through interrupt and trap gates, with and without an IST stack, as a real vCPU', () => {
    const m = machine();
    const failures: string[] = [];
    let compared = 0;
    try {
      const arrive = (): Arrival => {
        const regs = m.vcpu.getRegs();
        const frame = [0, 1, 2, 3, 4].map((i) => m.view.getBigUint64(Number(regs.rsp) + 8 * i, true));
        return { rip: regs.rip, rsp: regs.rsp, rflags: regs.rflags, cs: m.vcpu.getSregs().cs.selector, frame };
      };
      const cases: [string, number[], number, Gate, bigint, bigint][] = [];
      for (const gate of [{ type: 14, ist: 0 }, { type: 15, ist: 0 }, { type: 14, ist: 1 }] as Gate[]) {
        for (const [rsp, rflags] of [[0x8000n, 0x202n], [0x7ff8n, 0x2d7n], [0x8004n, 0xa93n]] as const) {
          cases.push(['int3', [0xcc], 3, gate, rsp, rflags], ['int 0x20', [0xcd, 0x20], 0x20, gate, rsp, rflags], ['int 0x80', [0xcd, 0x80], 0x80, gate, rsp, rflags]);
        }
      }
      for (const [name, bytes, vector, gate, rsp, rflags] of cases) {
        const label = `${name} (gate type ${gate.type}, ist ${gate.ist}, rsp ${rsp.toString(16)}, rflags ${rflags.toString(16)})`;
        m.gate(6, gate);
        m.gate(vector, gate);
        const start = { ...m.vcpu.getRegs(), rip: BigInt(CODE), rsp, rflags, rax: 0x1234n } as Regs;
        // The reference: ud2 at the same address, delivered by KVM.
        m.ram.bytes.set([0x0f, 0x0b], CODE);
        m.vcpu.setRegs(start);
        const ud = m.vcpu.run();
        if (ud.kind !== 'hlt') {
          failures.push(`${label}: ud2 stopped with ${ud.kind}`);
          continue;
        }
        const real = arrive();
        // The INT instruction: KVM gives up, the emulator delivers, the vCPU runs on into the handler.
        m.ram.bytes.set(bytes, CODE);
        m.vcpu.setRegs(start);
        const exit = m.vcpu.run();
        if (exit.kind !== 'internal-error' || !exit.instruction) {
          failures.push(`${label}: expected KVM to give up, got ${exit.kind}`);
          continue;
        }
        const sregs = m.vcpu.getSregs();
        const regs = m.vcpu.getRegs();
        const cpu: EmulatorCpu = { regs, cr0: sregs.cr0, cr3: sregs.cr3, cr4: sregs.cr4, efer: sregs.efer, system: { idt: sregs.idt, gdt: sregs.gdt, trBase: sregs.tr.base, cs: sregs.cs.selector, ss: sregs.ss.selector } };
        const result = emulate(exit.instruction, cpu, { memory: m.ram.bytes, readMmio: () => 0n, writeMmio: () => {} });
        if (result.kind !== 'ok' || !result.interrupt) {
          failures.push(`${label}: emulator says ${result.kind}`);
          continue;
        }
        expect(result.interrupt).toEqual({ vector, cs: 8, ss: sregs.ss.selector, cpl: 0 });
        m.vcpu.setRegs({ ...regs, ...result.regs });
        const after = m.vcpu.run();
        if (after.kind !== 'hlt') {
          failures.push(`${label}: the handler was not reached (${after.kind})`);
          continue;
        }
        const ours = arrive();
        compared++;
        const text = (a: Arrival) => JSON.stringify(a, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v));
        // Same arrival, but for the handler (its own vector), the pushed RIP (ud2's own, INT's next)
        // and the pushed RF: a fault pushes RFLAGS with RF set (so that IRET restarts it past an
        // instruction breakpoint), a trap or software interrupt pushes it as it was.
        const [, cs, flags, ...stack] = real.frame;
        const expected = { ...real, rip: BigInt(HANDLERS + vector + 1), frame: [BigInt(CODE + bytes.length), cs!, flags! & ~RF, ...stack] };
        if (text(ours) !== text(expected)) failures.push(`${label}:\n  kvm  ${text(expected)}\n  ours ${text(ours)}`);
      }
    } finally {
      m.close();
    }
    expect(failures).toEqual([]);
    expect(compared).toBe(27);
  });
});
