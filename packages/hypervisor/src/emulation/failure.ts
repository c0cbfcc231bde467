// KVM_EXIT_INTERNAL_ERROR with an emulation failure: KVM met an instruction it could not execute (on
// PVM hosts: int3, int n, SSE, xrstor, lock cmpxchg16b). isola's x86 emulator runs it when it can,
// its memory accesses going to guest RAM and to the MMIO bus; otherwise the VM stops with an error
// that names the instruction, its address and the registers, which is what a person debugging the
// guest needs first.
import type { VcpuExit, VcpuFd, Regs, Sregs } from '@isola/sys';
import type { Bitness, EmulatorCpu, GuestBus } from '@isola/wasm';
import type { IsolaError } from '@isola/errors';
import type { Bus } from '../devices/bus.js';
import { hex, hypervisorError } from '../errors.js';
import type { GuestMemory } from '../machine/memory.js';
import { disassemble, hexBytes } from './disassemble.js';
import type { Emulator } from './emulator.js';

type InternalError = Extract<VcpuExit, { kind: 'internal-error' }>;

export type EmulationOutcome = { kind: 'emulated'; instruction: string } | { kind: 'stop'; error: IsolaError };

export function bitnessOf(sregs: Sregs): Bitness {
  if ((sregs.cr0 & 1n) === 0n) return 16;
  if (sregs.cs.l && (sregs.efer & 0x400n) !== 0n) return 64;
  return sregs.cs.db ? 32 : 16;
}

export function formatRegisters(regs: Regs, sregs?: Sregs): string {
  const names = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'] as const;
  const parts = names.map((n) => `${n}=${hex(regs[n])}`);
  if (sregs) parts.push(`cr0=${hex(sregs.cr0)}`, `cr3=${hex(sregs.cr3)}`, `cr4=${hex(sregs.cr4)}`, `efer=${hex(sregs.efer)}`, `cs=${hex(sregs.cs.selector)}`);
  return parts.join(' ');
}

/** RAM through GuestMemory, everything else through the MMIO bus. */
export function emulatorBus(memory: GuestMemory, mmio: Bus): GuestBus {
  const low = memory.regions[0]!;
  const scratch = new Uint8Array(8);
  const toBig = (data: Uint8Array) => {
    let v = 0n;
    for (let i = data.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i]!);
    return v;
  };
  return {
    memory: low.bytes,
    isMmio: (address, size) => !(address + BigInt(size) <= BigInt(low.size)),
    readMmio(address, size) {
      const data = scratch.subarray(0, size);
      if (memory.find(address, size)) data.set(memory.slice(address, size));
      else mmio.read(Number(address), data);
      return toBig(data);
    },
    writeMmio(address, size, value) {
      const data = scratch.subarray(0, size);
      for (let i = 0; i < size; i++) data[i] = Number((value >> BigInt(8 * i)) & 0xffn);
      if (memory.find(address, size)) memory.write(address, data);
      else mmio.write(Number(address), data);
    },
  };
}

/** Whether this internal error is one the emulator is asked about (it carries the instruction's bytes). */
export function needsEmulator(exit: InternalError): boolean {
  return exit.reason === 'emulation' && exit.instruction !== undefined && exit.instruction.length > 0;
}

export function handleInternalError(exit: InternalError, vcpu: VcpuFd, memory: GuestMemory, mmio: Bus, emulator: Emulator | undefined): EmulationOutcome {
  const regs = vcpu.getRegs();
  const sregs = vcpu.getSregs();
  const where = `vCPU ${vcpu.id} at rip ${hex(regs.rip)}`;
  if (exit.reason !== 'emulation' || !exit.instruction || exit.instruction.length === 0) {
    return {
      kind: 'stop',
      error: hypervisorError('EVCPU_INTERNAL', `KVM internal error (${exit.reason}, suberror ${exit.suberror}) on ${where}; registers: ${formatRegisters(regs, sregs)}`, {
        suberror: exit.suberror,
        data: exit.data.map((d) => d.toString(16)),
        rip: regs.rip.toString(16),
      }),
    };
  }
  const bytes = exit.instruction;
  // The runner waits for the emulator before it hands over an instruction (needsEmulator).
  if (!emulator) throw hypervisorError('EVCPU_EMULATION', `the x86 emulator is not loaded for the instruction at rip ${hex(regs.rip)}`, {});
  const bitness = bitnessOf(sregs);
  const cpu: EmulatorCpu = {
    regs,
    cr0: sregs.cr0,
    cr3: sregs.cr3,
    cr4: sregs.cr4,
    efer: sregs.efer,
    segmentBases: { es: sregs.es.base, cs: sregs.cs.base, ss: sregs.ss.base, ds: sregs.ds.base, fs: sregs.fs.base, gs: sregs.gs.base },
    cpl: sregs.ss.dpl,
    bitness,
  };
  let result;
  try {
    result = emulator.emulate(bytes, cpu, emulatorBus(memory, mmio));
  } catch (cause) {
    const text = disassemble(emulator, emulator.decodeOne(bytes, { bitness, ip: regs.rip }));
    return { kind: 'stop', error: hypervisorError('EVCPU_EMULATION', `emulating \`${text}\` (${hexBytes(bytes)}) on ${where} failed`, { rip: regs.rip.toString(16) }, cause) };
  }
  const text = disassemble(emulator, result.instruction);
  // KVM hands over 15 bytes from RIP: show the instruction's own.
  const own = result.instruction.status === 'ok' ? bytes.subarray(0, result.instruction.length) : bytes;
  if (result.kind === 'ok') {
    vcpu.setRegs({ ...regs, ...result.regs });
    return { kind: 'emulated', instruction: text };
  }
  const why =
    result.kind === 'unsupported'
      ? "isola's x86 emulator does not execute it"
      : result.kind === 'invalid'
        ? 'it is not a valid instruction'
        : result.kind === 'page-fault'
          ? `it faults on ${hex(result.address)} (error code ${hex(result.errorCode)}), which the monitor cannot inject yet`
          : 'it raises #GP (a non-canonical address)';
  return {
    kind: 'stop',
    error: hypervisorError(
      'EVCPU_EMULATION',
      `KVM cannot emulate \`${text}\` (${hexBytes(own)}) on ${where}, and ${why}; registers: ${formatRegisters(regs, sregs)}`,
      { instruction: text, bytes: hexBytes(own), rip: regs.rip.toString(16), outcome: result.kind },
    ),
  };
}
