// The main thread's handle on a vCPU worker: spawn it early (a worker takes 100-250 ms to load Node
// and koffi, longer than building the machine), hand it the vCPU, kick it (immediate_exit, then
// SIGUSR2 to its thread, so a KVM_RUN in progress returns EINTR and one about to start returns at
// once), pause, resume, stop, feed it console input, and learn how it ended.
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { fcntl, tgkill, type VcpuFd } from '@isola/sys';
import { hypervisorError } from '../errors.js';
import type { RegionDescriptor } from '../machine/memory.js';
import type { PlatformConfig } from '../machine/platform.js';
import { COMMAND, CONTROL_BYTES, PAUSE, RUN, STOP, type ExitCounts, type VcpuEnd, type VcpuWorkerData, type WorkerEvent } from './protocol.js';

/** fcntl F_DUPFD_CLOEXEC (belongs in @isola/sys's constants; kept here until it moves). */
const F_DUPFD_CLOEXEC = 1030;
const NO_COUNTS: ExitCounts = { io: 0, mmio: 0, intr: 0, emulated: 0, other: 0 };

/**
 * V8 grows an isolate's young generation under steady allocation (console output, MMIO traces, the
 * rarer exits): a vCPU thread needs little, and capping it at 2 MiB kept the peak RSS of a run of
 * 20,000 port exits 2 MiB lower here (bench/vmm/run.mjs).
 */
const VCPU_HEAP_LIMITS = { maxYoungGenerationSizeMb: 2 };

let kickHandlerInstalled = false;

/**
 * KVM_RUN only returns on a signal that has a handler: without one SIGUSR2 would kill the process.
 * Installing it makes SIGUSR2 harmless for the whole process, which is the price of kicking.
 */
export function installKickHandler(): void {
  if (kickHandlerInstalled) return;
  process.on('SIGUSR2', () => {});
  kickHandlerInstalled = true;
}

/**
 * The vCPU worker: dist/vcpu-worker.mjs next to the bundle (dist/hypervisor.mjs, scripts/bundle.mjs),
 * dist/vcpu/worker.js next to this file, or (running from src/ under vitest) the built one.
 */
function workerUrl(): URL {
  for (const candidate of ['./vcpu-worker.mjs', './worker.js', '../../dist/vcpu/worker.js']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  throw hypervisorError('EVCPU_THREAD', `the vCPU worker ${fileURLToPath(new URL('../../dist/vcpu/worker.js', import.meta.url))} is missing: build @isola/hypervisor (npm run build)`, {});
}

export interface VcpuThreadOptions {
  vcpu: VcpuFd;
  vmFd: number;
  mmapSize: number;
  memory: RegionDescriptor[];
  platform: PlatformConfig;
  console: SharedArrayBuffer;
  onEmulated?(instruction: string): void;
  /** --trace-mmio: called with one line per MMIO exit; absent, the worker does no tracing work. */
  onMmio?(line: string): void;
}

export interface VcpuResult {
  end: VcpuEnd;
  counts: ExitCounts;
}

interface ThreadState {
  options: VcpuThreadOptions | undefined;
  tid: number | undefined;
  done: boolean;
  onReady: ((tid: number) => void) | undefined;
  onPaused: (() => void) | undefined;
  resolveEnd: (result: VcpuResult) => void;
}

/** A worker that is loading, not yet given a vCPU: spawn it as early as possible. */
export class PendingVcpuThread {
  readonly #worker: Worker;
  readonly #state: ThreadState;
  readonly #ended: Promise<VcpuResult>;

  constructor() {
    installKickHandler();
    let resolveEnd!: (r: VcpuResult) => void;
    this.#ended = new Promise<VcpuResult>((resolve) => (resolveEnd = resolve));
    const state: ThreadState = { options: undefined, tid: undefined, done: false, onReady: undefined, onPaused: undefined, resolveEnd };
    this.#state = state;
    const worker = new Worker(workerUrl(), { name: 'vcpu', resourceLimits: VCPU_HEAP_LIMITS });
    this.#worker = worker;
    const fail = (error: Error) => {
      if (state.done) return;
      state.done = true;
      const e = hypervisorError('EVCPU_THREAD', `vCPU thread failed: ${error.message}`, {}, error);
      resolveEnd({ end: { reason: 'error', code: e.code, message: e.message, details: {} }, counts: NO_COUNTS });
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the worker exited (code ${code}) before reporting how the vCPU ended`)));
    worker.on('message', (event: WorkerEvent) => {
      switch (event.type) {
        case 'ready':
          state.tid = event.tid;
          state.onReady?.(event.tid);
          break;
        case 'paused':
          state.onPaused?.();
          break;
        case 'emulated':
          state.options?.onEmulated?.(event.instruction);
          break;
        case 'mmio':
          state.options?.onMmio?.(event.line);
          break;
        case 'end':
          state.done = true;
          resolveEnd({ end: event.end, counts: event.counts });
          void worker.terminate();
          break;
        default:
          break;
      }
    });
  }

  /** Hands the worker its vCPU (a duplicate of the fd, which it closes) and waits until it runs. */
  async start(options: VcpuThreadOptions): Promise<VcpuThread> {
    const state = this.#state;
    state.options = options;
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    const inbox = new MessageChannel();
    const data: VcpuWorkerData & { inbox: unknown } = {
      vcpuId: options.vcpu.id,
      vcpuFd: fcntl(options.vcpu.fd, F_DUPFD_CLOEXEC, 0),
      vmFd: options.vmFd,
      mmapSize: options.mmapSize,
      memory: options.memory,
      platform: options.platform,
      control: control.buffer as SharedArrayBuffer,
      console: options.console,
      traceMmio: options.onMmio !== undefined,
      inbox: inbox.port2,
    };
    const ready = new Promise<number | undefined>((resolve) => {
      state.onReady = resolve;
      void this.#ended.then(() => resolve(undefined));
    });
    this.#worker.postMessage(data, [inbox.port2]);
    const tid = await ready;
    if (tid === undefined) {
      inbox.port1.close();
      const { end } = await this.#ended;
      throw hypervisorError('EVCPU_THREAD', `vCPU ${options.vcpu.id} did not start: ${end.reason === 'error' ? end.message : end.reason}`, {});
    }
    void this.#ended.then(() => inbox.port1.close());
    return new VcpuThread(options.vcpu, control, inbox, tid, this.#ended, state);
  }

  /** The machine was not built after all. */
  async cancel(): Promise<void> {
    this.#state.done = true;
    await this.#worker.terminate();
  }
}

export class VcpuThread {
  readonly #vcpu: VcpuFd;
  readonly #control: Int32Array;
  readonly #inbox: MessageChannel;
  readonly #tid: number;
  readonly ended: Promise<VcpuResult>;
  /** Shared with the worker's event handlers. */
  readonly #state: ThreadState;

  constructor(vcpu: VcpuFd, control: Int32Array, inbox: MessageChannel, tid: number, ended: Promise<VcpuResult>, state: ThreadState) {
    this.#vcpu = vcpu;
    this.#control = control;
    this.#inbox = inbox;
    this.#tid = tid;
    this.ended = ended;
    this.#state = state;
  }

  get tid(): number {
    return this.#tid;
  }

  /** Makes the vCPU leave KVM_RUN and look at its commands and inbox. */
  kick(): void {
    if (this.#state.done) return;
    this.#vcpu.setImmediateExit(true);
    try {
      tgkill(process.pid, this.#tid, constants.signals.SIGUSR2);
    } catch {
      // The thread has just ended: nothing to interrupt.
    }
  }

  async pause(): Promise<void> {
    if (this.#state.done) return;
    const paused = new Promise<void>((resolve) => (this.#state.onPaused = resolve));
    Atomics.store(this.#control, COMMAND, PAUSE);
    this.kick();
    await Promise.race([paused, this.ended]);
    this.#state.onPaused = undefined;
  }

  resume(): void {
    Atomics.store(this.#control, COMMAND, RUN);
    Atomics.notify(this.#control, COMMAND);
  }

  async stop(): Promise<VcpuResult> {
    Atomics.store(this.#control, COMMAND, STOP);
    Atomics.notify(this.#control, COMMAND);
    this.kick();
    return this.ended;
  }

  /** Ctrl+Alt+Del on this vCPU's i8042, delivered at the kick. */
  ctrlAltDel(): void {
    if (this.#state.done) return;
    this.#inbox.port1.postMessage({ type: 'ctrl-alt-del' });
    this.kick();
  }

  /** Console input for the serial port, delivered at the kick. */
  input(bytes: Uint8Array): void {
    if (this.#state.done) return;
    this.#inbox.port1.postMessage({ type: 'input', bytes });
    this.kick();
  }
}
