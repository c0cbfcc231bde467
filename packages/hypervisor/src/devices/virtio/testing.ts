// A virtio driver for tests, playing the guest's part against guest memory a test builds (ArrayRam): it
// programs a transport through its registers, lays out descriptor chains and available entries, and
// reads the used ring, so transport, queue and device models run without KVM (vm-virtio's mock.rs).
import { valueOf, type Device } from '../bus.js';
import { ArrayRam, le } from './ram.js';
import { DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE, Feature, Reg, Status } from './spec.js';

export interface GuestBuffer {
  address: number;
  length: number;
  write?: boolean;
}

export interface RawDescriptor {
  address: number;
  length: number;
  flags: number;
  next: number;
}

export const TEST_LAYOUT = { size: 16, desc: 0x1000, avail: 0x2000, used: 0x3000 };

export class MockDriver {
  readonly ram: ArrayRam;
  readonly layout = TEST_LAYOUT;
  #nextDesc = 0;
  #availIdx = 0;
  #usedSeen = 0;
  #heap = 0x10000;

  constructor(ram = new ArrayRam(1 << 20)) {
    this.ram = ram;
  }

  /** Room for `length` bytes in guest memory, optionally filled. */
  alloc(length: number, fill?: Uint8Array): number {
    const address = this.#heap;
    this.#heap += (length + 15) & ~15;
    if (fill) this.ram.view(address, fill.length)!.set(fill);
    return address;
  }

  bytes(address: number, length: number): Uint8Array {
    return this.ram.view(address, length)!.slice();
  }

  /** Writes descriptor `index` of the table at `table` exactly as given (for malformed chains too). */
  setDescriptor(index: number, d: RawDescriptor, table = this.layout.desc): void {
    const v = this.ram.view(table + index * 16, 16)!;
    le.setU64(v, 0, d.address);
    le.setU32(v, 8, d.length);
    le.setU16(v, 12, d.flags);
    le.setU16(v, 14, d.next);
  }

  /** Links `buffers` into a chain of fresh descriptors and returns its head. */
  chain(buffers: GuestBuffer[]): number {
    const head = this.#nextDesc;
    buffers.forEach((b, i) => {
      const index = (head + i) % this.layout.size;
      const last = i === buffers.length - 1;
      this.setDescriptor(index, { address: b.address, length: b.length, flags: (b.write ? DESC_F_WRITE : 0) | (last ? 0 : DESC_F_NEXT), next: last ? 0 : (index + 1) % this.layout.size });
    });
    this.#nextDesc = (head + buffers.length) % this.layout.size;
    return head;
  }

  /** One descriptor pointing at an indirect table holding `buffers`. */
  indirectChain(buffers: GuestBuffer[]): number {
    const table = this.alloc(buffers.length * 16);
    buffers.forEach((b, i) => {
      const last = i === buffers.length - 1;
      this.setDescriptor(i, { address: b.address, length: b.length, flags: (b.write ? DESC_F_WRITE : 0) | (last ? 0 : DESC_F_NEXT), next: last ? 0 : i + 1 }, table);
    });
    const head = this.#nextDesc;
    this.setDescriptor(head, { address: table, length: buffers.length * 16, flags: DESC_F_INDIRECT, next: 0 });
    this.#nextDesc = (head + 1) % this.layout.size;
    return head;
  }

  /** Makes `head` available. */
  offer(head: number): void {
    const avail = this.ram.view(this.layout.avail, 4 + 2 * this.layout.size)!;
    le.setU16(avail, 4 + 2 * (this.#availIdx % this.layout.size), head);
    this.#availIdx = (this.#availIdx + 1) & 0xffff;
    le.setU16(avail, 2, this.#availIdx);
  }

  /** Sets the available index directly (to test a guest that lies about it). */
  setAvailIdx(idx: number): void {
    le.setU16(this.ram.view(this.layout.avail, 4)!, 2, idx);
  }

  setAvailFlags(flags: number): void {
    le.setU16(this.ram.view(this.layout.avail, 2)!, 0, flags);
  }

  /** Used entries the device added since the last call. */
  takeUsed(): { id: number; length: number }[] {
    const used = this.ram.view(this.layout.used, 4 + 8 * this.layout.size)!;
    const out: { id: number; length: number }[] = [];
    const idx = le.u16(used, 2);
    while (this.#usedSeen !== idx) {
      const slot = 4 + 8 * (this.#usedSeen % this.layout.size);
      out.push({ id: le.u32(used, slot), length: le.u32(used, slot + 4) });
      this.#usedSeen = (this.#usedSeen + 1) & 0xffff;
    }
    return out;
  }

  /** Forgets ring positions, as a driver does after a reset. */
  restart(): void {
    this.#nextDesc = 0;
    this.#availIdx = 0;
    this.#usedSeen = 0;
    this.ram.view(this.layout.avail, 4)!.fill(0);
    this.ram.view(this.layout.used, 4)!.fill(0);
  }
}

/** Register access to a transport, 32 bits at a time, as a guest driver makes it. */
export class RegisterPort {
  readonly #device: Device;

  constructor(device: Device) {
    this.#device = device;
  }

  read(offset: number, width = 4): number {
    const data = new Uint8Array(width);
    this.#device.read(offset, data);
    return valueOf(data);
  }

  write(offset: number, value: number, width = 4): void {
    const data = new Uint8Array(width);
    for (let i = 0; i < width; i++) data[i] = (value >>> (8 * i)) & 0xff;
    this.#device.write(offset, data);
  }

  /** The driver side of 3.1.1 up to DRIVER_OK, with queue 0..n-1 at the given layouts; returns the final status. */
  initialize(driverFeatures: bigint, queues: { size: number; desc: number; avail: number; used: number }[]): number {
    this.write(Reg.STATUS, 0);
    this.write(Reg.STATUS, Status.ACKNOWLEDGE);
    this.write(Reg.STATUS, Status.ACKNOWLEDGE | Status.DRIVER);
    this.write(Reg.DRIVER_FEATURES_SEL, 0);
    this.write(Reg.DRIVER_FEATURES, Number(driverFeatures & 0xffff_ffffn));
    this.write(Reg.DRIVER_FEATURES_SEL, 1);
    this.write(Reg.DRIVER_FEATURES, Number(driverFeatures >> 32n));
    this.write(Reg.STATUS, Status.ACKNOWLEDGE | Status.DRIVER | Status.FEATURES_OK);
    if (!(this.read(Reg.STATUS) & Status.FEATURES_OK)) return this.read(Reg.STATUS);
    queues.forEach((q, i) => {
      this.write(Reg.QUEUE_SEL, i);
      this.write(Reg.QUEUE_NUM, q.size);
      this.write(Reg.QUEUE_DESC_LOW, q.desc);
      this.write(Reg.QUEUE_DESC_HIGH, 0);
      this.write(Reg.QUEUE_DRIVER_LOW, q.avail);
      this.write(Reg.QUEUE_DRIVER_HIGH, 0);
      this.write(Reg.QUEUE_DEVICE_LOW, q.used);
      this.write(Reg.QUEUE_DEVICE_HIGH, 0);
      this.write(Reg.QUEUE_READY, 1);
    });
    this.write(Reg.STATUS, Status.ACKNOWLEDGE | Status.DRIVER | Status.FEATURES_OK | Status.DRIVER_OK);
    return this.read(Reg.STATUS);
  }
}

export const VERSION_1 = 1n << BigInt(Feature.VERSION_1);
