// A vCPU fd: register state, CPUID, MSRs, LAPIC, MP state, and KVM_RUN with its exits as a union.
import * as c from '../abi/constants.js';
import * as io from '../abi/ioctls.js';
import * as s from '../abi/structs.js';
import { IsolaError } from '@isola/errors';
import { SyscallError } from '../errors.js';
import { close, ioctl, ioctlValue } from '../syscalls/files.js';
import { type Mapping, mmap } from '../syscalls/memory.js';
import { type CpuidEntry, decodeCpuid, encodeCpuid } from './cpuid.js';
import type { VcpuExit } from './exits.js';
import { RunPage } from './run-page.js';
import { type Fpu, type Regs, type Sregs, decodeFpu, decodeRegs, decodeSregs, encodeFpu, encodeRegs, encodeSregs } from './registers.js';

export type MpState = 'runnable' | 'uninitialized' | 'init-received' | 'halted' | 'sipi-received';
const MP_STATES: MpState[] = ['runnable', 'uninitialized', 'init-received', 'halted', 'sipi-received'];

export class VcpuFd {
  readonly fd: number;
  readonly id: number;
  /** The kvm_run page, for a vCPU loop that reads exits in place (RunPage.run()) rather than through run(). */
  readonly page: RunPage;
  readonly #run: Mapping;
  readonly #runView: DataView;

  constructor(fd: number, id: number, mmapSize: number) {
    this.fd = fd;
    this.id = id;
    this.#run = mmap(mmapSize, { prot: c.PROT_READ | c.PROT_WRITE, flags: c.MAP_SHARED, fd });
    this.#runView = new DataView(this.#run.bytes.buffer, this.#run.bytes.byteOffset, mmapSize);
    this.page = new RunPage(this.#run.bytes, () => void ioctlValue(fd, io.KVM_RUN, 0, 'KVM_RUN'));
  }

  /** KVM_RUN until the next exit. A signal or immediate_exit comes back as `{ kind: 'intr' }`. */
  run(): VcpuExit {
    try {
      ioctlValue(this.fd, io.KVM_RUN, 0, 'KVM_RUN');
    } catch (error) {
      if (error instanceof SyscallError && error.code === 'EINTR') return { kind: 'intr' };
      throw error;
    }
    return this.page.decode();
  }

  /** Makes the next (or a signal-interrupted) KVM_RUN return at once: the safe way to kick a vCPU. */
  setImmediateExit(on: boolean): void {
    this.#runView.setUint8(s.kvm_run.immediate_exit, on ? 1 : 0);
  }

  /** Ask for an exit as soon as the guest can take an interrupt (kvm_run.request_interrupt_window). */
  setRequestInterruptWindow(on: boolean): void {
    this.#runView.setUint8(s.kvm_run.request_interrupt_window, on ? 1 : 0);
  }

  get readyForInterruptInjection(): boolean {
    return this.#runView.getUint8(s.kvm_run.ready_for_interrupt_injection) !== 0;
  }

  getRegs(): Regs {
    const buf = Buffer.alloc(s.kvm_regs.size);
    ioctl(this.fd, io.KVM_GET_REGS, buf, 'KVM_GET_REGS');
    return decodeRegs(buf);
  }

  setRegs(regs: Regs): void {
    ioctl(this.fd, io.KVM_SET_REGS, encodeRegs(regs), 'KVM_SET_REGS');
  }

  getSregs(): Sregs {
    const buf = Buffer.alloc(s.kvm_sregs.size);
    ioctl(this.fd, io.KVM_GET_SREGS, buf, 'KVM_GET_SREGS');
    return decodeSregs(buf);
  }

  setSregs(sregs: Sregs): void {
    ioctl(this.fd, io.KVM_SET_SREGS, encodeSregs(sregs), 'KVM_SET_SREGS');
  }

  getFpu(): Fpu {
    const buf = Buffer.alloc(s.kvm_fpu.size);
    ioctl(this.fd, io.KVM_GET_FPU, buf, 'KVM_GET_FPU');
    return decodeFpu(buf);
  }

  setFpu(fpu: Fpu): void {
    ioctl(this.fd, io.KVM_SET_FPU, encodeFpu(fpu), 'KVM_SET_FPU');
  }

  /** Reads the given MSRs; fails naming the first one KVM would not read. */
  getMsrs(indices: readonly number[]): Map<number, bigint> {
    const buf = Buffer.alloc(s.kvm_msrs.size + indices.length * s.kvm_msr_entry.size);
    buf.writeUInt32LE(indices.length, s.kvm_msrs.nmsrs);
    indices.forEach((index, i) => buf.writeUInt32LE(index, s.kvm_msrs.entries + i * s.kvm_msr_entry.size + s.kvm_msr_entry.index));
    const read = ioctl(this.fd, io.KVM_GET_MSRS, buf, 'KVM_GET_MSRS');
    if (read < indices.length) throw new IsolaError('EKVMMSR', `KVM_GET_MSRS: vCPU ${this.id} cannot read MSR 0x${indices[read]!.toString(16)}`);
    const values = new Map<number, bigint>();
    indices.forEach((index, i) => values.set(index, buf.readBigUInt64LE(s.kvm_msrs.entries + i * s.kvm_msr_entry.size + s.kvm_msr_entry.data)));
    return values;
  }

  setMsrs(values: ReadonlyMap<number, bigint> | ReadonlyArray<readonly [number, bigint]>): void {
    const entries = [...values];
    const buf = Buffer.alloc(s.kvm_msrs.size + entries.length * s.kvm_msr_entry.size);
    buf.writeUInt32LE(entries.length, s.kvm_msrs.nmsrs);
    entries.forEach(([index, data], i) => {
      const at = s.kvm_msrs.entries + i * s.kvm_msr_entry.size;
      buf.writeUInt32LE(index, at + s.kvm_msr_entry.index);
      buf.writeBigUInt64LE(BigInt.asUintN(64, data), at + s.kvm_msr_entry.data);
    });
    const written = ioctl(this.fd, io.KVM_SET_MSRS, buf, 'KVM_SET_MSRS');
    if (written < entries.length) throw new IsolaError('EKVMMSR', `KVM_SET_MSRS: vCPU ${this.id} rejected MSR 0x${entries[written]![0].toString(16)}`);
  }

  setCpuid2(entries: readonly CpuidEntry[]): void {
    ioctl(this.fd, io.KVM_SET_CPUID2, encodeCpuid(entries), `KVM_SET_CPUID2 (${entries.length} entries)`);
  }

  getCpuid2(max = 256): CpuidEntry[] {
    const buf = Buffer.alloc(s.kvm_cpuid2.size + max * s.kvm_cpuid_entry2.size);
    buf.writeUInt32LE(max, s.kvm_cpuid2.nent);
    ioctl(this.fd, io.KVM_GET_CPUID2, buf, 'KVM_GET_CPUID2');
    return decodeCpuid(buf);
  }

  /** The local APIC's 1 KiB register page. */
  getLapic(): Uint8Array {
    const buf = Buffer.alloc(s.kvm_lapic_state.size);
    ioctl(this.fd, io.KVM_GET_LAPIC, buf, 'KVM_GET_LAPIC');
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  setLapic(regs: Uint8Array): void {
    const buf = Buffer.alloc(s.kvm_lapic_state.size);
    buf.set(regs.subarray(0, s.kvm_lapic_state.size));
    ioctl(this.fd, io.KVM_SET_LAPIC, buf, 'KVM_SET_LAPIC');
  }

  getMpState(): MpState {
    const buf = Buffer.alloc(s.kvm_mp_state.size);
    ioctl(this.fd, io.KVM_GET_MP_STATE, buf, 'KVM_GET_MP_STATE');
    return MP_STATES[buf.readUInt32LE(0)] ?? 'runnable';
  }

  setMpState(state: MpState): void {
    const buf = Buffer.alloc(s.kvm_mp_state.size);
    buf.writeUInt32LE(MP_STATES.indexOf(state));
    ioctl(this.fd, io.KVM_SET_MP_STATE, buf, `KVM_SET_MP_STATE ${state}`);
  }

  close(): void {
    this.#run.unmap();
    close(this.fd);
  }
}
