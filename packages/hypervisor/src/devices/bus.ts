// Routes port-I/O and MMIO accesses to the device that claimed the address. A device sees offsets from
// its base, never absolute addresses, so one model can sit anywhere. Unclaimed ports read as all ones
// and swallow writes, as on a PC where nothing answers.
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

export class Bus {
  readonly kind: 'pio' | 'mmio';
  readonly #ranges: Range[] = [];

  constructor(kind: 'pio' | 'mmio') {
    this.kind = kind;
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
    this.#ranges.push({ base, length, device });
    this.#ranges.sort((a, b) => a.base - b.base);
  }

  find(address: number): { device: Device; offset: number } | undefined {
    for (const r of this.#ranges) {
      if (address >= r.base && address < r.base + r.length) return { device: r.device, offset: address - r.base };
    }
    return undefined;
  }

  /** Returns false when no device claims the address (the read then yields all ones). */
  read(address: number, data: Uint8Array): boolean {
    const hit = this.find(address);
    if (!hit) {
      data.fill(0xff);
      return false;
    }
    hit.device.read(hit.offset, data);
    return true;
  }

  write(address: number, data: Uint8Array): boolean {
    const hit = this.find(address);
    if (!hit) return false;
    hit.device.write(hit.offset, data);
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
