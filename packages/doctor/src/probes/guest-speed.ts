// How fast this host's KVM runs guest code: a real-mode loop of `dec ecx; jnz` timed around KVM_RUN.
// On VT-x/SVM hosts that is billions of instructions a second; under PVM (this project's CI) about a
// million, which is why isola's VM tests use tiny guests.
import { Kvm, mmap } from '@isola/sys';

export interface GuestSpeed {
  instructions: number;
  seconds: number;
  instructionsPerSecond: number;
}

function loopGuest(iterations: number): number[] {
  const n = iterations >>> 0;
  return [
    0x66, 0xb9, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24, // mov ecx, n
    0x66, 0x49, //                                                         dec ecx
    0x75, 0xfc, //                                                         jnz dec
    0xf4, //                                                               hlt
  ];
}

function runLoop(kvm: Kvm, iterations: number): number {
  const vm = kvm.createVm();
  const ram = mmap(0x2000);
  try {
    ram.bytes.set(loopGuest(iterations), 0x1000);
    vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram.address });
    const vcpu = vm.createVcpu(0);
    try {
      const sregs = vcpu.getSregs();
      sregs.cs = { ...sregs.cs, base: 0n, selector: 0 };
      vcpu.setSregs(sregs);
      vcpu.setRegs({ ...vcpu.getRegs(), rip: 0x1000n, rflags: 2n });
      const start = process.hrtime.bigint();
      for (;;) {
        const exit = vcpu.run();
        if (exit.kind === 'hlt') break;
        if (exit.kind !== 'intr') throw new Error(`speed guest stopped with a ${exit.kind} exit`);
      }
      return Number(process.hrtime.bigint() - start) / 1e9;
    } finally {
      vcpu.close();
    }
  } finally {
    vm.close();
    ram.unmap();
  }
}

/** Grows the loop until one run takes at least `minSeconds`, so fast and slow hosts both measure well. */
export function measureGuestSpeed(kvm: Kvm, minSeconds = 0.02): GuestSpeed {
  for (let iterations = 10_000; ; iterations *= 10) {
    const seconds = runLoop(kvm, iterations);
    if (seconds >= minSeconds || iterations >= 1e9) {
      const instructions = 2 * iterations + 2;
      return { instructions, seconds, instructionsPerSecond: instructions / seconds };
    }
  }
}
