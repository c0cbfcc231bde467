// Routes port-I/O and MMIO accesses to the device that claimed the address. A device sees offsets from
// its base, never absolute addresses, so one model can sit anywhere. Unclaimed ports read as all ones
// and swallow writes, as on a PC where nothing answers. Every exit of the vCPU loop comes through here:
// a lookup is one table load (ports) or one Map probe (MMIO pages), and allocates nothing.
import { hex, hypervisorError } from '../errors.js';

export interface Device {
  /** A short name for traces and errors: "serial", "debug-exit". */
  readonly name: string;
  /** Reads `data.length` bytes at `offset` into data (little-endian, as the guest sees them). */
  read(offset: number, data: Uint8Array): void;
  write(offset: number, data: Uint8Array): void;
}

interface Range {
  base: number;
  length: number;
  device: Device;
}

/** Port I/O has 64 Ki ports: a byte per port names its range (index + 1), so a lookup is one load. */
const PORTS = 0x1_0000;
/** MMIO is dispatched by 4 KiB page: a page maps to the ranges that touch it (usually one). */
const PAGE = 4096;

export class Bus {
  readonly kind: 'pio' | 'mmio';
  readonly #ranges: Range[] = [];
  /** pio: port → index + 1 into #ranges (0: nobody), 255 ranges at most. */
  readonly #ports: Uint8Array | undefined;
  /** mmio: page number → the ranges on it. */
  readonly #pages = new Map<number, Range[]>();

  constructor(kind: 'pio' | 'mmio') {
    this.kind = kind;
    this.#ports = kind === 'pio' ? new Uint8Array(PORTS) : undefined;
  }

  register(base: number, length: number, device: Device): void {
    const clash = this.#ranges.find((r) => base < r.base + r.length && r.base < base + length);
    if (clash) {
      throw hypervisorError('EVM_CONFIG', `${this.kind} range ${hex(base)}+${length} of ${device.name} overlaps ${clash.device.name} at ${hex(clash.base)}`, {
        base,
        length,
        device: device.name,
        other: clash.device.name,
      });
    }
    const ports = this.#ports;
    if (ports && (base < 0 || length < 1 || base + length > PORTS || this.#ranges.length >= 255)) {
      throw hypervisorError('EVM_CONFIG', `pio range ${hex(base)}+${length} of ${device.name}: ports are 0 to 0xffff, 255 devices at most`, { base, length, device: device.name });
    }
    const range = { base, length, device };
    this.#ranges.push(range);
    if (ports) {
      ports.fill(this.#ranges.length, base, base + length);
      return;
    }
    for (let page = Math.floor(base / PAGE); page <= Math.floor((base + length - 1) / PAGE); page++) {
      const list = this.#pages.get(page);
      if (list) list.push(range);
      else this.#pages.set(page, [range]);
    }
  }

  #range(address: number): Range | undefined {
    const ports = this.#ports;
    if (ports) {
      const index = address < PORTS ? ports[address]! : 0;
      return index === 0 ? undefined : this.#ranges[index - 1];
    }
    const list = this.#pages.get(Math.floor(address / PAGE));
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (address >= r.base && address < r.base + r.length) return r;
    }
    return undefined;
  }

  find(address: number): { device: Device; offset: number } | undefined {
    const r = this.#range(address);
    return r && { device: r.device, offset: address - r.base };
  }

  /** Returns false when no device claims the address (the read then yields all ones). */
  read(address: number, data: Uint8Array): boolean {
    const r = this.#range(address);
    if (r === undefined) {
      data.fill(0xff);
      return false;
    }
    r.device.read(address - r.base, data);
    return true;
  }

  write(address: number, data: Uint8Array): boolean {
    const r = this.#range(address);
    if (r === undefined) return false;
    r.device.write(address - r.base, data);
    return true;
  }
}

/** The little-endian value of an access's bytes (at most 8). */
export function valueOf(data: Uint8Array): number {
  let v = 0;
  for (let i = Math.min(data.length, 6) - 1; i >= 0; i--) v = v * 256 + data[i]!;
  return v;
}

export function fill(data: Uint8Array, value: number): void {
  for (let i = 0; i < data.length; i++) data[i] = i < 4 ? (value >>> (8 * i)) & 0xff : 0;
}
