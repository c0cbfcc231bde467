// Real guests under the real /dev/kvm: a few real-mode instructions that touch a port and an MMIO address.
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { mmap } from '../syscalls/memory.js';
import { Kvm } from './kvm.js';
import type { VcpuExit } from './exits.js';
import type { VmFd } from './vm.js';

const kvmTest = itNeeds({ kvm: true });

/** Builds a one-vCPU VM with 32 KiB of RAM at 0 and `code` at 0x1000, in real mode. */
function realModeVm(code: number[], beforeVcpu: (vm: VmFd) => void = () => {}) {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  beforeVcpu(vm);
  const ram = mmap(0x8000);
  ram.bytes.set(code, 0x1000);
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram.address });
  const vcpu = vm.createVcpu(0);
  const sregs = vcpu.getSregs();
  sregs.cs = { ...sregs.cs, base: 0n, selector: 0 };
  sregs.ds = { ...sregs.ds, base: 0n, selector: 0 };
  vcpu.setSregs(sregs);
  vcpu.setRegs({ ...vcpu.getRegs(), rip: 0x1000n, rflags: 2n });
  const close = () => {
    vcpu.close();
    vm.close();
    kvm.close();
    ram.unmap();
  };
  return { kvm, vm, vcpu, ram, close };
}

function expectExit<K extends VcpuExit['kind']>(exit: VcpuExit, kind: K): Extract<VcpuExit, { kind: K }> {
  expect(exit.kind).toBe(kind);
  return exit as Extract<VcpuExit, { kind: K }>;
}

describe('Kvm, VmFd, VcpuFd', () => {
  kvmTest('speaks API version 12 and reports capabilities', () => {
    const kvm = Kvm.open();
    try {
      expect(kvm.getApiVersion()).toBe(12);
      expect(kvm.checkExtension('USER_MEMORY')).toBeGreaterThan(0);
      expect(kvm.getVcpuMmapSize()).toBeGreaterThanOrEqual(4096);
      const cpuid = kvm.getSupportedCpuid();
      const leaf0 = cpuid.find((e) => e.function === 0);
      expect(leaf0).toBeDefined();
      expect(leaf0!.eax).toBeGreaterThan(0);
      expect(kvm.getMsrIndexList().length).toBeGreaterThan(0);
    } finally {
      kvm.close();
    }
  });

  kvmTest('a real-mode guest writes a byte to port 0x3f8 and halts', () => {
    // mov al, 'A'; mov dx, 0x3f8; out dx, al; hlt
    const g = realModeVm([0xb0, 0x41, 0xba, 0xf8, 0x03, 0xee, 0xf4]);
    try {
      const io = expectExit(g.vcpu.run(), 'io');
      expect(io).toMatchObject({ direction: 'out', port: 0x3f8, size: 1, count: 1 });
      expect([...io.data]).toEqual([0x41]);
      expectExit(g.vcpu.run(), 'hlt');
      expect(g.vcpu.getRegs().rip).toBe(0x1007n);
    } finally {
      g.close();
    }
  });

  kvmTest('MMIO writes and reads, and port reads, are answered through the exit data', () => {
    const g = realModeVm([
      0xb0, 0x5a, //       mov al, 0x5a
      0xa2, 0x00, 0x90, // mov [0x9000], al   (no memory there: an MMIO write)
      0xa0, 0x00, 0x90, // mov al, [0x9000]   (MMIO read)
      0xba, 0xf8, 0x03, // mov dx, 0x3f8
      0xee, //             out dx, al
      0xec, //             in al, dx
      0xee, //             out dx, al
      0xf4, //             hlt
    ]);
    try {
      const write = expectExit(g.vcpu.run(), 'mmio');
      expect(write).toMatchObject({ address: 0x9000n, isWrite: true, length: 1 });
      expect([...write.data]).toEqual([0x5a]);
      const read = expectExit(g.vcpu.run(), 'mmio');
      expect(read).toMatchObject({ address: 0x9000n, isWrite: false, length: 1 });
      read.data[0] = 0x33;
      expect([...expectExit(g.vcpu.run(), 'io').data]).toEqual([0x33]);
      const input = expectExit(g.vcpu.run(), 'io');
      expect(input).toMatchObject({ direction: 'in', port: 0x3f8, size: 1 });
      input.data[0] = 0x44;
      expect([...expectExit(g.vcpu.run(), 'io').data]).toEqual([0x44]);
      expectExit(g.vcpu.run(), 'hlt');
    } finally {
      g.close();
    }
  });

  kvmTest('immediate_exit makes KVM_RUN return an intr exit without running the guest', () => {
    const g = realModeVm([0xf4]);
    try {
      g.vcpu.setImmediateExit(true);
      expectExit(g.vcpu.run(), 'intr');
      g.vcpu.setImmediateExit(false);
      expectExit(g.vcpu.run(), 'hlt');
    } finally {
      g.close();
    }
  });

  kvmTest('registers, segments, FPU, MSRs, LAPIC and MP state round-trip through the kernel', () => {
    const g = realModeVm([0xf4], (vm) => vm.createIrqchip());
    try {
      const regs = { ...g.vcpu.getRegs(), rax: 0x1122334455667788n, r15: 0xffffffffffffffffn };
      g.vcpu.setRegs(regs);
      expect(g.vcpu.getRegs()).toEqual(regs);
      const sregs = g.vcpu.getSregs();
      sregs.es = { ...sregs.es, base: 0x12340n, selector: 0x1234 };
      g.vcpu.setSregs(sregs);
      expect(g.vcpu.getSregs().es).toMatchObject({ base: 0x12340n, selector: 0x1234 });
      const fpu = g.vcpu.getFpu();
      fpu.xmm[0] = 0xab;
      g.vcpu.setFpu(fpu);
      expect(g.vcpu.getFpu().xmm[0]).toBe(0xab);
      const IA32_SYSENTER_CS = 0x174;
      g.vcpu.setMsrs([[IA32_SYSENTER_CS, 0x10n]]);
      expect(g.vcpu.getMsrs([IA32_SYSENTER_CS]).get(IA32_SYSENTER_CS)).toBe(0x10n);
      expect(() => g.vcpu.getMsrs([0xdeadbeef])).toThrow(/cannot read MSR 0xdeadbeef/);
      const lapic = g.vcpu.getLapic();
      expect(lapic.length).toBe(1024);
      g.vcpu.setLapic(lapic);
      expect(g.vcpu.getMpState()).toBe('runnable');
      g.vcpu.setCpuid2(g.kvm.getSupportedCpuid());
      expect(g.vcpu.getCpuid2().length).toBeGreaterThan(0);
    } finally {
      g.close();
    }
  });

  kvmTest('VM-level devices: TSS, identity map, irqchip, PIT, irq line, irqfd, ioeventfd', async () => {
    const { eventfd, close } = await import('../syscalls/files.js');
    // The TSS, identity map and irqchip must exist before the first vCPU.
    const g = realModeVm([0xf4], (vm) => {
      vm.setTssAddress(0xfffbd000);
      vm.setIdentityMapAddress(0xfffbc000);
      vm.createIrqchip();
      vm.createPit2();
    });
    const efd = eventfd();
    try {
      g.vm.irqLine(4, true);
      g.vm.irqLine(4, false);
      g.vm.irqfd(efd, 5);
      g.vm.irqfd(efd, 5, { deassign: true });
      g.vm.ioeventfd({ fd: efd, address: 0xd0000000n, length: 4 });
      g.vm.ioeventfd({ fd: efd, address: 0xd0000000n, length: 4 }, true);
      expect(() => g.vm.createIrqchip()).toThrow(/KVM_CREATE_IRQCHIP.*EEXIST/);
    } finally {
      close(efd);
      g.close();
    }
  });
});
