// The library API: createVm() builds a KVM machine (memory with the hole below 4 GiB, in-kernel irqchip
// and PIT, a vCPU with its CPUID and boot state, the guest loaded), start() runs each vCPU in a worker
// thread, wait() resolves with how the guest ended, or rejects with the error that stopped it.
import { readFile } from 'node:fs/promises';
import { Kvm, type VcpuFd, type VmFd } from '@isola/sys';
import { IsolaError } from '@isola/errors';
import { pvhEntry, realModeEntry, vcpuCpuid, type CpuFeature } from './arch/x86_64/index.js';
import { applyBootPlan, type BootPlan } from './boot/plan.js';
import { planFlatBoot } from './boot/flat.js';
import { planPvhBoot } from './boot/pvh.js';
import { hypervisorError } from './errors.js';
import { e820Map } from './machine/e820.js';
import { IDENTITY_MAP_ADDRESS, TSS_ADDRESS } from './machine/layout.js';
import { GuestMemory } from './machine/memory.js';
import type { ExitCounts, VcpuEnd } from './vcpu/protocol.js';
import { ByteRing } from './vcpu/ring.js';
import { PendingVcpuThread, type VcpuThread } from './vcpu/thread.js';

export type ConsoleSink = ((bytes: Uint8Array) => void) | NodeJS.WritableStream;

export interface VmOptions {
  memoryMiB: number;
  /** Only 1 for now. */
  cpus?: number;
  /** An ELF kernel with a PVH entry note: a path or its bytes. */
  kernel?: string | Uint8Array;
  /** A flat binary started in real mode at 0x8000 (test guests). */
  flat?: string | Uint8Array;
  cmdline?: string;
  /** Where the guest's serial output goes; dropped when absent. */
  console?: ConsoleSink;
  /** The isa-debug-exit-like port at 0x501; on by default. */
  debugExit?: boolean;
  /** CPUID features the guest must not see. */
  hideCpuFeatures?: CpuFeature[];
  /** Called for each instruction KVM could not emulate and isola's emulator executed. */
  onEmulated?(instruction: string): void;
}

/** How a guest ended without an error. */
export type VmExit = Exclude<VcpuEnd, { reason: 'error' }>;
export type VmState = 'created' | 'running' | 'paused' | 'ended';

async function bytesOf(source: string | Uint8Array): Promise<Uint8Array> {
  if (typeof source !== 'string') return source;
  try {
    return new Uint8Array(await readFile(source));
  } catch (cause) {
    throw hypervisorError('EVM_CONFIG', `cannot read ${source}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { path: source }, cause);
  }
}

export class Vm {
  readonly #kvm: Kvm;
  readonly #vm: VmFd;
  readonly #vcpu: VcpuFd;
  readonly #memory: GuestMemory;
  readonly #options: VmOptions;
  readonly #pending: PendingVcpuThread;
  readonly #console = new ByteRing();
  #thread: VcpuThread | undefined;
  #state: VmState = 'created';
  #result: Promise<VmExit> | undefined;
  #counts: ExitCounts | undefined;

  /** @internal use createVm */
  constructor(kvm: Kvm, vm: VmFd, vcpu: VcpuFd, memory: GuestMemory, options: VmOptions, pending: PendingVcpuThread) {
    this.#pending = pending;
    this.#kvm = kvm;
    this.#vm = vm;
    this.#vcpu = vcpu;
    this.#memory = memory;
    this.#options = options;
  }

  get state(): VmState {
    return this.#state;
  }

  /** Exit counts of the vCPU, once it has ended. */
  get counts(): ExitCounts | undefined {
    return this.#counts;
  }

  /** A copy of guest RAM while the machine exists (its memory is unmapped when it ends). */
  readMemory(address: number, length: number): Uint8Array {
    if (this.#state === 'ended') throw hypervisorError('EVM_STATE', 'the VM has ended: its memory is gone', {});
    return this.#memory.read(address, length);
  }

  async start(): Promise<void> {
    if (this.#state !== 'created') throw hypervisorError('EVM_STATE', `cannot start a VM that is ${this.#state}`, { state: this.#state });
    this.#state = 'running';
    const sink = this.#options.console;
    const write = typeof sink === 'function' ? sink : sink ? (bytes: Uint8Array) => void sink.write(bytes) : () => {};
    const pumped = this.#console.pump(write);
    try {
      this.#thread = await this.#pending.start({
        vcpu: this.#vcpu,
        vmFd: this.#vm.fd,
        mmapSize: this.#kvm.getVcpuMmapSize(),
        memory: this.#memory.describe(),
        platform: { debugExit: this.#options.debugExit ?? true },
        console: this.#console.buffer,
        onEmulated: this.#options.onEmulated,
      });
    } catch (error) {
      this.#console.close();
      await pumped;
      this.#close();
      throw error;
    }
    this.#result = this.#thread.ended.then(async ({ end, counts }) => {
      this.#counts = counts;
      // The worker wrote its last byte before it ended: drain, then let go of the machine.
      this.#console.close();
      await pumped;
      this.#close();
      if (end.reason === 'error') throw new IsolaError(end.code, end.message, { details: end.details });
      return end;
    });
    // wait() may never be called; an unobserved rejection must not crash the process.
    this.#result.catch(() => {});
  }

  /** Resolves when the guest ends; rejects with the error that stopped it. */
  async wait(): Promise<VmExit> {
    if (!this.#result) throw hypervisorError('EVM_STATE', 'the VM was not started', {});
    return this.#result;
  }

  async pause(): Promise<void> {
    if (this.#state !== 'running') return;
    await this.#thread!.pause();
    if (this.#state === 'running') this.#state = 'paused';
  }

  resume(): void {
    if (this.#state !== 'paused') return;
    this.#thread!.resume();
    this.#state = 'running';
  }

  /** Stops the vCPU wherever it is (also while paused or sleeping in HLT), and ends the VM. */
  async stop(): Promise<VmExit> {
    if (this.#state === 'created') {
      await this.#pending.cancel();
      this.#close();
      return { reason: 'stopped' };
    }
    if (this.#state !== 'ended') await this.#thread!.stop();
    return this.wait();
  }

  /** Bytes for the guest's serial port, as if typed at its console. */
  input(bytes: Uint8Array | string): void {
    if (this.#state !== 'running' && this.#state !== 'paused') throw hypervisorError('EVM_STATE', `cannot send input to a VM that is ${this.#state}`, {});
    this.#thread!.input(typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes)) : bytes);
  }

  #close(): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#vcpu.close();
    this.#vm.close();
    this.#kvm.close();
    this.#memory.close();
  }
}

export async function createVm(options: VmOptions): Promise<Vm> {
  if ((options.cpus ?? 1) !== 1) throw hypervisorError('EVM_CONFIG', `${options.cpus} vCPUs: only 1 is supported so far`, { cpus: options.cpus });
  if (!options.kernel === !options.flat) throw hypervisorError('EVM_CONFIG', 'give exactly one of kernel (a PVH ELF) or flat (a flat binary)', {});
  if (!Number.isInteger(options.memoryMiB) || options.memoryMiB < 2) {
    throw hypervisorError('EVM_CONFIG', `memoryMiB ${options.memoryMiB}: must be a whole number of MiB, at least 2`, { memoryMiB: options.memoryMiB });
  }
  // The vCPU thread loads while the machine is built.
  const pending = new PendingVcpuThread();
  const cleanup: (() => void)[] = [() => void pending.cancel()];
  try {
    const image = await bytesOf((options.kernel ?? options.flat)!);
    const name = typeof (options.kernel ?? options.flat) === 'string' ? ((options.kernel ?? options.flat) as string) : 'kernel image';
    const kvm = Kvm.open();
    cleanup.push(() => kvm.close());
    const vm = kvm.createVm();
    cleanup.push(() => vm.close());
    // The TSS, identity map and irqchip must exist before the first vCPU.
    vm.setTssAddress(TSS_ADDRESS);
    vm.setIdentityMapAddress(IDENTITY_MAP_ADDRESS);
    vm.createIrqchip();
    vm.createPit2();
    const memory = GuestMemory.allocate(options.memoryMiB << 20);
    cleanup.push(() => memory.close());
    memory.regions.forEach((region, slot) =>
      vm.setUserMemoryRegion({ slot, guestPhysAddr: region.guestAddress, memorySize: region.size, userspaceAddr: region.hostAddress }),
    );
    const isRam = (address: number, size: number) => memory.find(address, size) !== undefined;
    const plan: BootPlan = options.kernel
      ? planPvhBoot(image, { cmdline: options.cmdline, memmap: e820Map(memory.regions), isRam, name })
      : planFlatBoot(image, { isRam });
    applyBootPlan(plan, memory);
    const vcpu = vm.createVcpu(0);
    cleanup.push(() => vcpu.close());
    vcpu.setCpuid2(vcpuCpuid(kvm.getSupportedCpuid(), { apicId: 0, hide: options.hideCpuFeatures }));
    const entry =
      plan.entry.mode === 'real'
        ? realModeEntry(vcpu.getRegs(), vcpu.getSregs(), plan.entry.rip)
        : pvhEntry(vcpu.getRegs(), vcpu.getSregs(), plan.entry.rip, plan.entry.startInfo);
    vcpu.setSregs(entry.sregs);
    vcpu.setRegs(entry.regs);
    return new Vm(kvm, vm, vcpu, memory, options, pending);
  } catch (error) {
    for (const undo of cleanup.reverse()) undo();
    throw error;
  }
}
