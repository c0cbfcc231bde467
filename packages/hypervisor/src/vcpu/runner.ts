// The vCPU loop: KVM_RUN, then handle the exit right here (devices live in this thread), until the
// guest ends or the main thread says stop. Synchronous on purpose: it runs in a worker_thread of its
// own, and a kick (immediate_exit + SIGUSR2) is the only way in while KVM_RUN sleeps.
// Port I/O and MMIO exits are read from the kvm_run page in place and dispatched through the buses'
// flat tables (run-page.ts, devices/bus.ts): no object, view or message per exit. Every other exit is
// decoded into VcpuExit first.
import { EXIT_AGAIN, abi, type RunPage, type VcpuExit, type VcpuFd } from '@isola/sys';
import { IsolaError } from '@isola/errors';
import { hex, hypervisorError } from '../errors.js';
import { handleInternalError, formatRegisters, needsEmulator } from '../emulation/failure.js';
import type { Emulator } from '../emulation/emulator.js';
import { traceMmio } from '../emulation/trace.js';
import type { GuestMemory } from '../machine/memory.js';
import type { Platform } from '../machine/platform.js';
import { COMMAND, PAUSE, STOP, type ExitCounts, type VcpuEnd } from './protocol.js';

export interface RunnerHooks {
  /** Called on each kick: deliver pending console input and the like. */
  onKick?(): void;
  onPause?(): void;
  onResume?(): void;
  onEmulated?(instruction: string): void;
  /** --trace-mmio: one line per MMIO exit (emulation/trace.ts). Absent, an exit costs one check. */
  onMmio?(line: string): void;
}

export class VcpuRunner {
  readonly counts: ExitCounts = { io: 0, mmio: 0, intr: 0, emulated: 0, other: 0 };
  readonly #vcpu: VcpuFd;
  readonly #page: RunPage;
  readonly #memory: GuestMemory;
  readonly #platform: Platform;
  readonly #control: Int32Array;
  readonly #hooks: RunnerHooks;
  #end: VcpuEnd | undefined;
  #emulator: Emulator | undefined;
  /** An emulation failure that arrived before the emulator had loaded: handled first on the next run(). */
  #deferred: Extract<VcpuExit, { kind: 'internal-error' }> | undefined;

  constructor(vcpu: VcpuFd, page: RunPage, memory: GuestMemory, platform: Platform, control: Int32Array, hooks: RunnerHooks = {}) {
    this.#vcpu = vcpu;
    this.#page = page;
    this.#memory = memory;
    this.#platform = platform;
    this.#control = control;
    this.#hooks = hooks;
  }

  /** Devices call this to end the VM (debug exit, reset); the loop returns after the current exit. */
  end(end: VcpuEnd): void {
    this.#end ??= end;
  }

  /** The x86 emulator, once loaded (the worker loads it at the first 'needs-emulator'). */
  provideEmulator(emulator: Emulator): void {
    this.#emulator = emulator;
  }

  /**
   * Runs the vCPU until the guest ends. Returns 'needs-emulator' when KVM could not execute an
   * instruction and the emulator has not been provided yet: provide it and call run() again, which
   * handles that instruction first.
   */
  run(): VcpuEnd | 'needs-emulator' {
    try {
      const deferred = this.#deferred;
      this.#deferred = undefined;
      if (deferred && !this.#end) this.#handle(deferred);
      const page = this.#page;
      while (!this.#end) {
        // A command set while this thread was busy in JS: its kick's immediate_exit makes the next
        // KVM_RUN return at once, and it is handled there.
        const reason = page.run();
        if (reason === abi.KVM_EXIT_IO) this.#io();
        else if (reason === abi.KVM_EXIT_MMIO) this.#mmio();
        else if (reason === abi.KVM_EXIT_INTR) {
          this.counts.intr++;
          this.#kicked();
        } else if (reason !== EXIT_AGAIN) {
          // EXIT_AGAIN: an application processor waited for INIT/SIPI inside KVM_RUN; when they arrive,
          // KVM returns EAGAIN once (arch/x86/kvm/x86.c, KVM_MP_STATE_UNINITIALIZED), and the VMM
          // runs it again, as QEMU does.
          this.#handle(page.decode(reason));
          if (this.#deferred) return 'needs-emulator';
        }
      }
    } catch (error) {
      const e = error instanceof IsolaError ? error : hypervisorError('EVCPU_THREAD', `vCPU ${this.#vcpu.id}: ${(error as Error).message}`, {}, error);
      this.end({ reason: 'error', code: e.code, message: e.message, details: e.details });
    }
    return this.#end!;
  }

  #io(): void {
    this.counts.io++;
    const page = this.#page;
    const bus = this.#platform.pio;
    const port = page.ioPort;
    const data = page.ioData();
    const out = page.ioOut;
    const count = page.ioCount;
    // One access (all but rep ins/outs): the data is that access, no view to cut.
    if (count === 1) {
      if (out) bus.write(port, data);
      else bus.read(port, data);
      return;
    }
    const size = page.ioSize;
    for (let i = 0; i < count; i++) {
      const one = data.subarray(i * size, (i + 1) * size);
      if (out) bus.write(port, one);
      else bus.read(port, one);
    }
  }

  #mmio(): void {
    this.counts.mmio++;
    const page = this.#page;
    const address = page.mmioAddress;
    const data = page.mmioData();
    if (page.mmioIsWrite) this.#platform.mmio.write(address, data);
    else this.#platform.mmio.read(address, data);
    if (this.#hooks.onMmio) {
      const exit = page.decode(abi.KVM_EXIT_MMIO) as Extract<VcpuExit, { kind: 'mmio' }>;
      this.#hooks.onMmio(traceMmio(exit, this.#vcpu, this.#memory, this.#emulator));
    }
  }

  /** Every exit but port I/O, MMIO and kicks, decoded. */
  #handle(exit: VcpuExit): void {
    switch (exit.kind) {
      case 'internal-error': {
        if (!this.#emulator && needsEmulator(exit)) {
          this.#deferred = exit;
          return;
        }
        const outcome = handleInternalError(exit, this.#vcpu, this.#memory, this.#platform.mmio, this.#emulator);
        if (outcome.kind === 'emulated') {
          this.counts.emulated++;
          this.#hooks.onEmulated?.(outcome.instruction);
        } else {
          this.end({ reason: 'error', code: outcome.error.code, message: outcome.error.message, details: outcome.error.details });
        }
        return;
      }
      case 'hlt':
        this.end({ reason: 'halted' });
        return;
      case 'shutdown':
        this.end({ reason: 'shutdown' });
        return;
      case 'system-event':
        this.end(exit.event === 'reset' ? { reason: 'reset' } : { reason: 'shutdown' });
        return;
      default: {
        this.counts.other++;
        const regs = this.#vcpu.getRegs();
        const code = exit.kind === 'fail-entry' ? 'EVCPU_FAIL_ENTRY' : 'EVCPU_UNHANDLED_EXIT';
        const detail = JSON.stringify(exit, (_, v) => (typeof v === 'bigint' ? hex(v) : v));
        const e = hypervisorError(code, `vCPU ${this.#vcpu.id} stopped with a ${exit.kind} exit ${detail} at rip ${hex(regs.rip)}; registers: ${formatRegisters(regs)}`, { exit: exit.kind });
        this.end({ reason: 'error', code: e.code, message: e.message, details: e.details });
      }
    }
  }

  #kicked(): void {
    this.#vcpu.setImmediateExit(false);
    this.#hooks.onKick?.();
    let command = Atomics.load(this.#control, COMMAND);
    if (command === PAUSE) {
      this.#hooks.onPause?.();
      while ((command = Atomics.load(this.#control, COMMAND)) === PAUSE) Atomics.wait(this.#control, COMMAND, PAUSE);
      if (command !== STOP) this.#hooks.onResume?.();
    }
    if (command === STOP) this.end({ reason: 'stopped' });
  }
}
