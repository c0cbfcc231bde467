// The vCPU loop: KVM_RUN, then handle the exit right here (devices live in this thread), until the
// guest ends or the main thread says stop. Synchronous on purpose: it runs in a worker_thread of its
// own, and a kick (immediate_exit + SIGUSR2) is the only way in while KVM_RUN sleeps.
import type { VcpuExit, VcpuFd } from '@isola/sys';
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
  readonly #memory: GuestMemory;
  readonly #platform: Platform;
  readonly #control: Int32Array;
  readonly #hooks: RunnerHooks;
  #end: VcpuEnd | undefined;
  #emulator: Emulator | undefined;
  /** An emulation failure that arrived before the emulator had loaded: handled first on the next run(). */
  #deferred: Extract<VcpuExit, { kind: 'internal-error' }> | undefined;

  constructor(vcpu: VcpuFd, memory: GuestMemory, platform: Platform, control: Int32Array, hooks: RunnerHooks = {}) {
    this.#vcpu = vcpu;
    this.#memory = memory;
    this.#platform = platform;
    this.#control = control;
    this.#hooks = hooks;
  }

  /** Devices call this to end the VM (debug exit, reset); the loop returns after the current exit. */
  end(end: VcpuEnd): void {
    this.#end ??= end;
  }

  /** The x86 emulator, once loaded (the worker loads it in the background). */
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
      while (!this.#end) {
        // A command set while this thread was busy in JS: its kick's immediate_exit makes the next
        // KVM_RUN return at once, and it is handled there.
        this.#handle(this.#runOnce());
        if (this.#deferred) return 'needs-emulator';
      }
    } catch (error) {
      const e = error instanceof IsolaError ? error : hypervisorError('EVCPU_THREAD', `vCPU ${this.#vcpu.id}: ${(error as Error).message}`, {}, error);
      this.end({ reason: 'error', code: e.code, message: e.message, details: e.details });
    }
    return this.#end!;
  }

  /**
   * One KVM_RUN. An application processor waits for INIT/SIPI inside KVM_RUN; when they arrive, KVM
   * returns EAGAIN once (arch/x86/kvm/x86.c, the KVM_MP_STATE_UNINITIALIZED case) and the VMM runs it
   * again, as QEMU does.
   */
  #runOnce(): VcpuExit | undefined {
    try {
      return this.#vcpu.run();
    } catch (error) {
      if (error instanceof IsolaError && error.code === 'EAGAIN') return undefined;
      throw error;
    }
  }

  #handle(exit: VcpuExit | undefined): void {
    if (!exit) return;
    switch (exit.kind) {
      case 'io': {
        this.counts.io++;
        const bus = this.#platform.pio;
        for (let i = 0; i < exit.count; i++) {
          const data = exit.data.subarray(i * exit.size, (i + 1) * exit.size);
          if (exit.direction === 'out') bus.write(exit.port, data);
          else bus.read(exit.port, data);
        }
        return;
      }
      case 'mmio':
        this.counts.mmio++;
        if (exit.isWrite) this.#platform.mmio.write(Number(exit.address), exit.data);
        else this.#platform.mmio.read(Number(exit.address), exit.data);
        if (this.#hooks.onMmio) this.#hooks.onMmio(traceMmio(exit, this.#vcpu, this.#memory, this.#emulator));
        return;
      case 'intr':
        this.counts.intr++;
        this.#kicked();
        return;
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
