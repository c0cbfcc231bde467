// The library API: createVm() builds a KVM machine (memory with the hole below 4 GiB, in-kernel irqchip
// and PIT, ACPI tables, N vCPUs with their CPUID, the boot vCPU in its entry state, the guest loaded),
// start() runs each vCPU in a worker thread, wait() resolves with how the guest ended (the first vCPU
// to end ends the machine), or rejects with the error that stopped it.
//
// SMP: every vCPU but 0 is an application processor that KVM's in-kernel LAPIC holds in wait-for-SIPI
// until the guest starts it with INIT/SIPI, as on real hardware. Each vCPU thread builds its own view of
// the legacy port devices; the 8250 is one device all the same (its state and lock are shared, and its
// output goes to one console ring, written under that lock), as are the virtio transports. The i8042
// and RTC are still per vCPU: console input and the power-off request go to vCPU 0's.
import { readFile } from 'node:fs/promises';
import { Kvm, type Regs, type Sregs, type VcpuFd, type VmFd } from '@isola/sys';
import { IsolaError } from '@isola/errors';
import { planAcpi } from './acpi/build.js';
import { encodeMpTable } from './acpi/mptable.js';
import type { VirtioMmioDescriptor } from './acpi/dsdt.js';
import { linux64Entry, pvhEntry, realModeEntry, vcpuCpuid, type CpuFeature } from './arch/x86_64/index.js';
import { applyBootPlan, type BootPlan } from './boot/plan.js';
import { planFlatBoot } from './boot/flat.js';
import { parseElf } from './boot/elf.js';
import { linuxImageKind, planLinuxBoot } from './boot/linux.js';
import { findPvhEntry, planPvhBoot } from './boot/pvh.js';
import { hypervisorError } from './errors.js';
import { e820Map } from './machine/e820.js';
import { IDENTITY_MAP_ADDRESS, MPTABLE_ADDRESS, TSS_ADDRESS } from './machine/layout.js';
import { GuestMemory } from './machine/memory.js';
import type { ExitCounts, VcpuEnd } from './vcpu/protocol.js';
import { ByteRing } from './vcpu/ring.js';
import { PendingVcpuThread, type VcpuThread } from './vcpu/thread.js';
import { serialState } from './devices/serial/device.js';
import { VirtioDevices } from './devices/virtio/devices.js';
import type { DiskOptions } from './devices/virtio-blk/disk-spec.js';
import { ramOf } from './devices/virtio/ram.js';

export type ConsoleSink = ((bytes: Uint8Array) => void) | NodeJS.WritableStream;

export interface VmOptions {
  memoryMiB: number;
  /** vCPUs, 1 to 255 (default 1); vCPU 0 boots, the others wait for INIT/SIPI. */
  cpus?: number;
  /** A Linux kernel (ELF vmlinux or bzImage) or an ELF with a PVH entry note: a path or its bytes. */
  kernel?: string | Uint8Array;
  /**
   * How to enter an ELF kernel: 'pvh' through its XEN_ELFNOTE_PHYS32_ENTRY note, 'linux64' through
   * Linux's 64-bit boot protocol (boot_params). Default: PVH when the note is there. A bzImage is
   * always entered through its 64-bit entry.
   */
  boot?: 'pvh' | 'linux64';
  /** An initial ramdisk for Linux: a path or its bytes. */
  initrd?: string | Uint8Array;
  /** ACPI tables (RSDP, XSDT, FADT, MADT, DSDT); on by default, off for guests that want none. */
  acpi?: boolean;
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
  /**
   * Trace every MMIO access (KVM_EXIT_MMIO) with the instruction that made it, one line each
   * (emulation/trace.ts): true writes them to stderr, a function receives them. Off by default, and
   * then free.
   */
  traceMmio?: boolean | ((line: string) => void);
  /** Virtio-blk disks (qcow2 or raw images), one virtio-mmio transport each, in this order. */
  disks?: DiskOptions[];
  /** A virtio-rng device fed from the host's crypto RNG (after the disks). */
  rng?: boolean;
  /** A virtio device stopped serving until the guest resets it (DEVICE_NEEDS_RESET), and why. */
  onDeviceError?(device: string, reason: string): void;
}

function mmioTracer(option: VmOptions['traceMmio']): ((line: string) => void) | undefined {
  if (typeof option === 'function') return option;
  return option ? (line) => void process.stderr.write(`${line}\n`) : undefined;
}

/** How a guest ended without an error. */
export type VmExit = Exclude<VcpuEnd, { reason: 'error' }>;
export type VmState = 'created' | 'running' | 'paused' | 'ended';

/** 8-bit APIC IDs, 0xff being broadcast; the MP table gives the I/O APIC the ID after the last vCPU. */
export const MAX_CPUS = 254;

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
  readonly #vcpus: VcpuFd[];
  readonly #memory: GuestMemory;
  readonly #options: VmOptions;
  readonly #pending: PendingVcpuThread[];
  /** The console ring: every vCPU writes to it, one at a time under the UART's lock. */
  readonly #console = new ByteRing();
  readonly #serial = serialState();
  #threads: VcpuThread[] = [];
  #state: VmState = 'created';
  #result: Promise<VmExit> | undefined;
  #counts: ExitCounts | undefined;
  readonly #devices: VirtioDevices | undefined;

  /** @internal use createVm */
  constructor(kvm: Kvm, vm: VmFd, vcpus: VcpuFd[], memory: GuestMemory, options: VmOptions, pending: PendingVcpuThread[], devices?: VirtioDevices) {
    this.#devices = devices;
    this.#pending = pending;
    this.#kvm = kvm;
    this.#vm = vm;
    this.#vcpus = vcpus;
    this.#memory = memory;
    this.#options = options;
  }

  get state(): VmState {
    return this.#state;
  }

  get cpus(): number {
    return this.#vcpus.length;
  }

  /** Exit counts of all vCPUs together, once the VM has ended. */
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
    const drain = async () => {
      this.#console.close();
      await pumped;
    };
    this.#devices?.start();
    const mmapSize = this.#kvm.getVcpuMmapSize();
    const started = await Promise.allSettled(
      this.#vcpus.map((vcpu, i) =>
        this.#pending[i]!.start({
          vcpu,
          vmFd: this.#vm.fd,
          mmapSize,
          memory: this.#memory.describe(),
          platform: { debugExit: this.#options.debugExit ?? true, virtio: this.#devices?.slots, serial: this.#serial },
          console: this.#console.buffer,
          onEmulated: this.#options.onEmulated,
          onMmio: mmioTracer(this.#options.traceMmio),
        }),
      ),
    );
    this.#threads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(this.#threads.map((t) => t.stop()));
      await drain();
      await this.#devices?.stop().catch(() => {});
      this.#close();
      throw failed.reason;
    }
    // The first vCPU to end ends the machine: the others are stopped, and its end is the VM's.
    const first = Promise.race(this.#threads.map((t) => t.ended));
    this.#result = first.then(async ({ end }) => {
      const results = await Promise.all(this.#threads.map((t) => t.stop()));
      this.#counts = results.reduce<ExitCounts>(
        (sum, { counts }) => ({ io: sum.io + counts.io, mmio: sum.mmio + counts.mmio, intr: sum.intr + counts.intr, emulated: sum.emulated + counts.emulated, other: sum.other + counts.other }),
        { io: 0, mmio: 0, intr: 0, emulated: 0, other: 0 },
      );
      // The workers wrote their last bytes before they ended: drain, then let go of the machine.
      await drain();
      // Devices finish what is in flight (it points into guest memory) and close their images first.
      const closed = await this.#devices?.stop().then(() => undefined, (error: unknown) => error);
      this.#close();
      if (end.reason === 'error') throw new IsolaError(end.code, end.message, { details: end.details });
      if (closed) throw closed;
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
    await Promise.all(this.#threads.map((t) => t.pause()));
    if (this.#state === 'running') this.#state = 'paused';
  }

  resume(): void {
    if (this.#state !== 'paused') return;
    for (const t of this.#threads) t.resume();
    this.#state = 'running';
  }

  /** Stops every vCPU wherever it is (also while paused, sleeping in HLT or waiting for SIPI), and ends the VM. */
  async stop(): Promise<VmExit> {
    if (this.#state === 'created') {
      await Promise.all(this.#pending.map((p) => p.cancel()));
      await this.#devices?.stop();
      this.#close();
      return { reason: 'stopped' };
    }
    if (this.#state !== 'ended') await Promise.all(this.#threads.map((t) => t.stop()));
    return this.wait();
  }

  /** Presses Ctrl+Alt+Del on the guest's i8042 (a paused VM is resumed to see it), and returns. */
  requestPowerOff(): void {
    if (this.#state !== 'running' && this.#state !== 'paused') throw hypervisorError('EVM_STATE', `cannot ask a VM that is ${this.#state} to power off`, {});
    this.resume();
    this.#threads[0]!.ctrlAltDel();
  }

  /**
   * Asks the guest to power off (Ctrl+Alt+Del on the i8042, as Firecracker's SendCtrlAltDel) and
   * waits up to timeoutMs (default 10 s) for it to end by itself (a Linux guest reboots, which ends
   * the VM with reason 'reset'); then stops the vCPUs, and the VM ends with reason 'stopped'.
   */
  async shutdown(options: { timeoutMs?: number } = {}): Promise<VmExit> {
    if (this.#state === 'created' || this.#state === 'ended') return this.stop();
    this.requestPowerOff();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs ?? 10_000)));
    const ended = await Promise.race([this.#result!.then(() => 'ended' as const, () => 'ended' as const), timedOut]);
    clearTimeout(timer);
    return ended === 'ended' ? this.wait() : this.stop();
  }

  /** Each vCPU's registers, for debugging: only while paused, when no KVM_RUN holds the vCPUs. */
  registers(): { regs: Regs; sregs: Sregs }[] {
    if (this.#state !== 'paused') throw hypervisorError('EVM_STATE', `registers can be read while the VM is paused, not ${this.#state}`, {});
    return this.#vcpus.map((vcpu) => ({ regs: vcpu.getRegs(), sregs: vcpu.getSregs() }));
  }

  /** Bytes for the guest's serial port, as if typed at its console (delivered by vCPU 0's thread). */
  input(bytes: Uint8Array | string): void {
    if (this.#state !== 'running' && this.#state !== 'paused') throw hypervisorError('EVM_STATE', `cannot send input to a VM that is ${this.#state}`, {});
    this.#threads[0]!.input(typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes)) : bytes);
  }

  #close(): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    for (const vcpu of this.#vcpus) vcpu.close();
    this.#vm.close();
    this.#kvm.close();
    this.#memory.close();
  }
}

/** How an ELF or bzImage kernel is entered, from its bytes and the caller's preference. */
function kernelBootPath(image: Uint8Array, options: VmOptions, name: string): 'pvh' | 'linux64' {
  if (options.boot) return options.boot;
  if (linuxImageKind(image) !== 'elf') return 'linux64';
  try {
    findPvhEntry(image, parseElf(image, name), name);
    return 'pvh';
  } catch (error) {
    // No PVH note: Linux's 64-bit entry; any other problem with the ELF is the caller's to hear.
    if (error instanceof IsolaError && error.code === 'EPVH_NO_ENTRY') return 'linux64';
    throw error;
  }
}

export async function createVm(options: VmOptions): Promise<Vm> {
  const cpus = options.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) throw hypervisorError('EVM_CONFIG', `${options.cpus} vCPUs: give 1 to ${MAX_CPUS}`, { cpus: options.cpus });
  if (!options.kernel === !options.flat) throw hypervisorError('EVM_CONFIG', 'give exactly one of kernel (a Linux kernel or PVH ELF) or flat (a flat binary)', {});
  if (options.initrd && !options.kernel) throw hypervisorError('EVM_CONFIG', 'an initrd needs a kernel', {});
  if (!Number.isInteger(options.memoryMiB) || options.memoryMiB < 2) {
    throw hypervisorError('EVM_CONFIG', `memoryMiB ${options.memoryMiB}: must be a whole number of MiB, at least 2`, { memoryMiB: options.memoryMiB });
  }
  // The vCPU threads load while the machine is built.
  const pending = Array.from({ length: cpus }, () => new PendingVcpuThread());
  const cleanup: (() => void)[] = pending.map((p) => () => void p.cancel());
  try {
    const image = await bytesOf((options.kernel ?? options.flat)!);
    const name = typeof (options.kernel ?? options.flat) === 'string' ? ((options.kernel ?? options.flat) as string) : 'kernel image';
    const initrd = options.initrd ? await bytesOf(options.initrd) : undefined;
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
    const devices = await VirtioDevices.create(vm, ramOf(memory), { disks: options.disks, rng: options.rng, onDeviceError: options.onDeviceError });
    cleanup.push(() => void devices.stop().catch(() => {}));
    // Virtio-mmio transports the machine has, as the DSDT describes them.
    const virtioMmio: VirtioMmioDescriptor[] = devices.descriptors;
    const acpi = options.acpi === false ? undefined : planAcpi({ cpus, virtio: virtioMmio });
    const memmap = e820Map(memory.regions);
    const rsdpAddress = acpi?.rsdpAddress;
    const plan: BootPlan = !options.kernel
      ? planFlatBoot(image, { isRam })
      : kernelBootPath(image, options, name) === 'pvh'
        ? planPvhBoot(image, { cmdline: options.cmdline, memmap, isRam, name, rsdpAddress })
        : planLinuxBoot(image, { cmdline: options.cmdline, memmap, isRam, name, rsdpAddress, initrd, initrdName: typeof options.initrd === 'string' ? options.initrd : undefined });
    if (initrd && plan.entry.mode !== 'linux64') throw hypervisorError('EVM_CONFIG', `${name}: an initrd needs Linux's 64-bit boot protocol (boot: 'linux64'); PVH start_info modules are not supported`, {});
    if (acpi) plan.writes.push(...acpi.writes);
    // The MP table too, for guests booted with acpi=off; flat test binaries get neither.
    if (options.kernel) plan.writes.push({ address: MPTABLE_ADDRESS, bytes: encodeMpTable(MPTABLE_ADDRESS, cpus), what: 'MP table' });
    applyBootPlan(plan, memory);
    const supported = kvm.getSupportedCpuid();
    const vcpus: VcpuFd[] = [];
    for (let id = 0; id < cpus; id++) {
      const vcpu = vm.createVcpu(id);
      cleanup.push(() => vcpu.close());
      vcpu.setCpuid2(vcpuCpuid(supported, { apicId: id, hide: options.hideCpuFeatures }));
      vcpus.push(vcpu);
    }
    const bsp = vcpus[0]!;
    const entry =
      plan.entry.mode === 'real'
        ? realModeEntry(bsp.getRegs(), bsp.getSregs(), plan.entry.rip)
        : plan.entry.mode === 'pvh'
          ? pvhEntry(bsp.getRegs(), bsp.getSregs(), plan.entry.rip, plan.entry.startInfo)
          : linux64Entry(bsp.getRegs(), bsp.getSregs(), plan.entry.rip, plan.entry.bootParams, plan.entry.cr3, plan.entry.stack);
    bsp.setSregs(entry.sregs);
    bsp.setRegs(entry.regs);
    return new Vm(kvm, vm, vcpus, memory, options, pending, devices);
  } catch (error) {
    for (const undo of cleanup.reverse()) undo();
    throw error;
  }
}
