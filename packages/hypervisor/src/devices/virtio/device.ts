// The device side of a virtio-mmio transport, on the thread that owns the backends (the VMM's main
// thread): it sleeps until a vCPU thread kicks the shared state (a queue notification, DRIVER_OK, a
// reset), then takes every available chain of every ready queue to the device model and returns the
// results through the used ring with an interrupt. A queue layout or chain the guest got wrong puts
// the device in DEVICE_NEEDS_RESET with a config-change interrupt, as the spec says (2.1.2), and it
// serves nothing more until the driver resets it.
import { type DescriptorChain } from './chain.js';
import type { GuestRam } from './ram.js';
import { SplitQueue } from './queue.js';
import { Feature, INTERRUPT_CONFIG_CHANGE, INTERRUPT_USED_BUFFER, Status } from './spec.js';
import { TransportState } from './state.js';
import type { VirtioMmioDescriptor, VirtioMmioSlot } from './transport.js';

/** What a device model answers for one chain: the bytes it wrote, or why the request is unservable. */
export type Served = number | { error: string };

/** A virtio device behind the transport: virtio-blk, virtio-rng. */
export interface VirtioDeviceModel {
  readonly name: string;
  readonly deviceId: number;
  /** Device-specific features; the transport adds VERSION_1 and INDIRECT_DESC. */
  readonly features: bigint;
  readonly queueMax: readonly number[];
  readonly config: Uint8Array;
  serve(queue: number, chain: DescriptorChain, ram: GuestRam): Served | Promise<Served>;
  /** Lets go of backing resources (an image file) once nothing is in flight. */
  close?(): Promise<void>;
}

export const TRANSPORT_FEATURES = (1n << BigInt(Feature.VERSION_1)) | (1n << BigInt(Feature.RING_INDIRECT_DESC));

export interface DeviceHooks {
  /** Pulses the transport's interrupt line. */
  interrupt(): void;
  /** The device entered DEVICE_NEEDS_RESET, and why (for logs and tests). */
  onDeviceError?(reason: string): void;
  /** A request failed inside the model (an I/O error answered to the guest with a status). */
  onRequestError?(error: unknown): void;
}

export class VirtioMmioDevice {
  readonly model: VirtioDeviceModel;
  readonly slot: VirtioMmioSlot;
  readonly #state: TransportState;
  readonly #ram: GuestRam;
  readonly #hooks: DeviceHooks;
  readonly #inFlight = new Set<Promise<void>>();
  #queues: (SplitQueue | undefined)[] = [];
  #epoch = -1;
  #running = false;
  #loop: Promise<void> | undefined;
  #interruptPending = false;
  /** Why the device last entered NEEDS_RESET. */
  lastError: string | undefined;

  constructor(model: VirtioDeviceModel, placement: VirtioMmioDescriptor, ram: GuestRam, hooks: DeviceHooks) {
    this.model = model;
    this.#ram = ram;
    this.#hooks = hooks;
    this.#state = new TransportState();
    this.#state.reset(model.queueMax);
    this.slot = {
      ...placement,
      name: model.name,
      deviceId: model.deviceId,
      features: model.features | TRANSPORT_FEATURES,
      queueMax: [...model.queueMax],
      config: model.config,
      state: this.#state.buffer,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops serving, waits for requests in flight (they still point into guest memory), closes the model. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#state.kick();
    await this.#loop;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.model.close?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const seen = this.#state.kicks;
      this.#service();
      if (!this.#running) break;
      await this.#state.waitForKick(seen);
    }
  }

  #service(): void {
    const s = this.#state;
    const epoch = s.epoch;
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#queues = [];
    }
    const status = s.status;
    if (!(status & Status.DRIVER_OK) || status & (Status.DEVICE_NEEDS_RESET | Status.FAILED)) return;
    const indirect = (s.driverFeatures & (1n << BigInt(Feature.RING_INDIRECT_DESC))) !== 0n;
    for (let q = 0; q < this.model.queueMax.length; q++) {
      if (!s.queueReady(q)) {
        // Turned off: its layout may change before it is turned on again.
        this.#queues[q] = undefined;
        continue;
      }
      let queue = this.#queues[q];
      if (!queue) {
        const opened = SplitQueue.open(this.#ram, s.queueLayout(q), { indirect });
        if (!(opened instanceof SplitQueue)) return this.#fail(`queue ${q}: ${opened.reason}`);
        queue = this.#queues[q] = opened;
      }
      for (let popped = queue.pop(); popped; popped = queue.pop()) {
        if (!popped.ok) return this.#fail(`queue ${q}: ${popped.reason}`);
        this.#dispatch(q, queue, popped.chain, epoch);
        if (this.#epoch !== epoch || this.#state.status & Status.DEVICE_NEEDS_RESET) return;
      }
    }
  }

  #dispatch(q: number, queue: SplitQueue, chain: DescriptorChain, epoch: number): void {
    let served: Served | Promise<Served>;
    try {
      served = this.model.serve(q, chain, this.#ram);
    } catch (error) {
      served = { error: `${this.model.name}: ${(error as Error).message}` };
    }
    if (!(served instanceof Promise)) return this.#complete(q, queue, chain.head, served, epoch);
    const done: Promise<void> = served.then(
      (result) => this.#complete(q, queue, chain.head, result, epoch),
      (error: unknown) => this.#complete(q, queue, chain.head, { error: `${this.model.name}: ${(error as Error).message}` }, epoch),
    );
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
  }

  #complete(q: number, queue: SplitQueue, head: number, served: Served, epoch: number): void {
    // A reset since the request started: its queue is gone, and the guest may have reused the rings.
    if (epoch !== this.#state.epoch || this.#queues[q] !== queue) return;
    if (typeof served !== 'number') return this.#fail(served.error);
    queue.push(head, served);
    if (queue.wantsInterrupt()) this.#interrupt(INTERRUPT_USED_BUFFER);
  }

  /** Coalesces the interrupts of one pass (or of requests completing together) into one pulse. */
  #interrupt(bits: number): void {
    this.#state.raiseInterrupt(bits);
    if (this.#interruptPending) return;
    this.#interruptPending = true;
    queueMicrotask(() => {
      this.#interruptPending = false;
      this.#hooks.interrupt();
    });
  }

  #fail(reason: string): void {
    this.lastError = reason;
    this.#state.orStatus(Status.DEVICE_NEEDS_RESET);
    this.#hooks.onDeviceError?.(reason);
    this.#interrupt(INTERRUPT_CONFIG_CHANGE);
  }
}
