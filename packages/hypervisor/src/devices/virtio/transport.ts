// The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2), as the vCPU threads see it: each guest
// access to the register window lands here. Identity, feature negotiation, status, queue layout and
// interrupt acknowledgement are handled in place; a queue notification wakes the device thread, which
// serves the queue (device.ts). Registers take 32-bit accesses only; anything else, and any write the
// protocol does not allow at that point, is ignored, so a guest poking at random cannot hurt the host.
import type { Device } from '../bus.js';
import { fill, valueOf } from '../bus.js';
import { TransportState, MAX_QUEUES, type QueueAddress } from './state.js';
import { Feature, MMIO_MAGIC, MMIO_VENDOR, MMIO_VERSION, Reg, Status } from './spec.js';

/** A transport as the machine places it: what the ACPI DSDT describes. */
export interface VirtioMmioDescriptor {
  base: number;
  size: number;
  /** A GSI of the I/O APIC; edge-triggered. */
  irq: number;
}

/** Everything a vCPU thread needs to build a transport: structured-clonable, the state shared. */
export interface VirtioMmioSlot extends VirtioMmioDescriptor {
  /** "virtio-blk0", "virtio-rng". */
  name: string;
  deviceId: number;
  features: bigint;
  queueMax: number[];
  config: Uint8Array;
  state: SharedArrayBuffer;
}

const QUEUE_ADDRESS: Record<number, [QueueAddress, boolean]> = {
  [Reg.QUEUE_DESC_LOW]: ['desc', false],
  [Reg.QUEUE_DESC_HIGH]: ['desc', true],
  [Reg.QUEUE_DRIVER_LOW]: ['avail', false],
  [Reg.QUEUE_DRIVER_HIGH]: ['avail', true],
  [Reg.QUEUE_DEVICE_LOW]: ['used', false],
  [Reg.QUEUE_DEVICE_HIGH]: ['used', true],
};

const VERSION_1 = 1n << BigInt(Feature.VERSION_1);

export class MmioTransport implements Device {
  readonly name: string;
  readonly #slot: VirtioMmioSlot;
  readonly #state: TransportState;

  constructor(slot: VirtioMmioSlot) {
    this.name = slot.name;
    this.#slot = slot;
    this.#state = new TransportState(slot.state);
  }

  read(offset: number, data: Uint8Array): void {
    if (offset >= Reg.CONFIG) {
      const config = this.#slot.config;
      for (let i = 0; i < data.length; i++) data[i] = config[offset - Reg.CONFIG + i] ?? 0;
      return;
    }
    fill(data, data.length === 4 && offset % 4 === 0 ? this.#register(offset) : 0);
  }

  #register(offset: number): number {
    const s = this.#state;
    const q = s.queueSel;
    switch (offset) {
      case Reg.MAGIC:
        return MMIO_MAGIC;
      case Reg.VERSION:
        return MMIO_VERSION;
      case Reg.DEVICE_ID:
        return this.#slot.deviceId;
      case Reg.VENDOR_ID:
        return MMIO_VENDOR;
      case Reg.DEVICE_FEATURES: {
        const sel = s.deviceFeaturesSel;
        return sel > 1 ? 0 : Number((this.#slot.features >> BigInt(32 * sel)) & 0xffff_ffffn);
      }
      case Reg.QUEUE_NUM_MAX:
        return this.#slot.queueMax[q] ?? 0;
      case Reg.QUEUE_READY:
        return q < this.#queues() && s.queueReady(q) ? 1 : 0;
      case Reg.INTERRUPT_STATUS:
        return s.interruptStatus;
      case Reg.STATUS:
        return s.status;
      case Reg.CONFIG_GENERATION:
        return s.configGeneration;
      // No shared memory regions: their length reads as all ones (4.2.2).
      case Reg.SHM_LEN_LOW:
      case Reg.SHM_LEN_HIGH:
      case Reg.SHM_BASE_LOW:
      case Reg.SHM_BASE_HIGH:
        return 0xffff_ffff;
      default:
        return 0;
    }
  }

  write(offset: number, data: Uint8Array): void {
    // The config space of these devices has no writable fields; registers take whole words only.
    if (offset >= Reg.CONFIG || data.length !== 4 || offset % 4 !== 0) return;
    const value = valueOf(data);
    const s = this.#state;
    const status = s.status;
    const q = s.queueSel;
    // Queue layout may change only while the queue is off and the driver has not finished setup.
    const queueWritable = q < this.#queues() && !s.queueReady(q) && (status & Status.FEATURES_OK) !== 0 && (status & Status.DRIVER_OK) === 0;
    switch (offset) {
      case Reg.DEVICE_FEATURES_SEL:
        s.deviceFeaturesSel = value;
        return;
      case Reg.DRIVER_FEATURES:
        if ((status & Status.DRIVER) && !(status & Status.FEATURES_OK)) s.setDriverFeatureWord(s.driverFeaturesSel, value);
        return;
      case Reg.DRIVER_FEATURES_SEL:
        s.driverFeaturesSel = value;
        return;
      case Reg.QUEUE_SEL:
        s.queueSel = value;
        return;
      case Reg.QUEUE_NUM:
        if (queueWritable) s.setQueueNum(q, value);
        return;
      case Reg.QUEUE_READY:
        if (q < this.#queues() && (status & Status.FEATURES_OK)) {
          s.setQueueReady(q, value === 1);
          s.kick();
        }
        return;
      case Reg.QUEUE_NOTIFY:
        if ((status & Status.DRIVER_OK) !== 0) s.kick();
        return;
      case Reg.INTERRUPT_ACK:
        s.ackInterrupt(value);
        return;
      case Reg.STATUS:
        this.#writeStatus(value);
        return;
      default: {
        const address = QUEUE_ADDRESS[offset];
        if (address && queueWritable) s.setQueueAddress(q, address[0], address[1], value);
      }
    }
  }

  #queues(): number {
    return Math.min(this.#slot.queueMax.length, MAX_QUEUES);
  }

  /**
   * 0 resets. Otherwise the driver may only add bits, in the order of 3.1.1: FEATURES_OK after DRIVER,
   * and only for a subset of the device's features that includes VERSION_1 (else it does not stick,
   * which is how the driver learns the device refused); DRIVER_OK after FEATURES_OK.
   */
  #writeStatus(written: number): void {
    const s = this.#state;
    const value = written & 0xff;
    if (value === 0) {
      s.reset(this.#slot.queueMax);
      return;
    }
    for (;;) {
      const old = s.status;
      let next = old | value;
      const added = next & ~old;
      if ((added & Status.DRIVER) && !(next & Status.ACKNOWLEDGE)) return;
      if (added & Status.FEATURES_OK) {
        const wanted = s.driverFeatures;
        const acceptable = (next & Status.DRIVER) !== 0 && (wanted & ~this.#slot.features) === 0n && (wanted & VERSION_1) !== 0n;
        if (!acceptable) next &= ~Status.FEATURES_OK;
      }
      if ((added & Status.DRIVER_OK) && !(next & Status.FEATURES_OK)) return;
      // The device owns NEEDS_RESET: the driver cannot set it.
      if (added & Status.DEVICE_NEEDS_RESET) next &= ~Status.DEVICE_NEEDS_RESET;
      if (s.swapStatus(old, next)) {
        if (next & Status.DRIVER_OK) s.kick();
        return;
      }
    }
  }
}
