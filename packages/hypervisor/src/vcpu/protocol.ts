// What the main thread and a vCPU worker tell each other. Commands go through a shared Int32Array,
// so the worker can read them between two KVM_RUNs without touching its event loop; events come back
// as messages. Everything here must survive structured cloning (no class instances).
import type { RegionDescriptor } from '../machine/memory.js';
import type { PlatformConfig } from '../machine/platform.js';

/** control[COMMAND]: what the main thread wants; written before each kick. */
export const COMMAND = 0;
export const RUN = 0;
export const PAUSE = 1;
export const STOP = 2;
export const CONTROL_BYTES = 16;

export interface VcpuWorkerData {
  vcpuId: number;
  /** The worker's own duplicate of the vCPU fd: it closes it when done. */
  vcpuFd: number;
  vmFd: number;
  mmapSize: number;
  memory: RegionDescriptor[];
  platform: PlatformConfig;
  control: SharedArrayBuffer;
  console: SharedArrayBuffer;
  /** --trace-mmio: the worker loads the emulator before the first KVM_RUN and reports each MMIO exit. */
  traceMmio?: boolean;
}

export interface ExitCounts {
  io: number;
  mmio: number;
  intr: number;
  emulated: number;
  other: number;
}

export type VcpuEnd =
  /** The guest wrote to the debug-exit port. */
  | { reason: 'exit'; status: number }
  /** stop() ended it. */
  | { reason: 'stopped' }
  /** The guest asked for a reset (i8042 0xfe, or KVM's system reset event). */
  | { reason: 'reset' }
  /** A triple fault, or the guest powered off through KVM's system event. */
  | { reason: 'shutdown' }
  /** HLT with interrupts off and no in-kernel irqchip to wake it. */
  | { reason: 'halted' }
  | { reason: 'error'; code: string; message: string; details: Record<string, unknown> };

export type WorkerEvent =
  /** Modules loaded: the thread can take its vCPU. */
  | { type: 'loaded' }
  | { type: 'ready'; tid: number }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'emulated'; instruction: string }
  | { type: 'mmio'; line: string }
  | { type: 'end'; end: VcpuEnd; counts: ExitCounts };

export type MainMessage =
  | { type: 'input'; bytes: Uint8Array }
  /** The monitor's power-off request: Ctrl+Alt+Del on the i8042 (vCPU 0's). */
  | { type: 'ctrl-alt-del' };
