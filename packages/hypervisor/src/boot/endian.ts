// Little-endian field access for the boot formats, bounds-checked: a field past the end of the input
// is a typed error naming the field, never a RangeError from deep inside a DataView.
import { hypervisorError, type HypervisorErrorCode } from '../errors.js';

export class LeReader {
  readonly #view: DataView;
  readonly #what: string;
  readonly #code: HypervisorErrorCode;

  constructor(bytes: Uint8Array, what: string, code: HypervisorErrorCode) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
    this.#code = code;
  }

  get length(): number {
    return this.#view.byteLength;
  }

  #check(at: number, size: number, field: string): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + size > this.#view.byteLength) {
      throw hypervisorError(this.#code, `${this.#what}: ${field} at offset ${at} lies past the end (${this.#view.byteLength} bytes)`, { field, offset: at });
    }
  }

  u8(at: number, field: string): number {
    this.#check(at, 1, field);
    return this.#view.getUint8(at);
  }

  u16(at: number, field: string): number {
    this.#check(at, 2, field);
    return this.#view.getUint16(at, true);
  }

  u32(at: number, field: string): number {
    this.#check(at, 4, field);
    return this.#view.getUint32(at, true);
  }

  /** A 64-bit field as a bigint: virtual addresses (0xffffffff81000000) do not fit a number. */
  u64n(at: number, field: string): bigint {
    this.#check(at, 8, field);
    return this.#view.getBigUint64(at, true);
  }

  /** A 64-bit field as a number; values past 2^53 are errors (no guest address is that large). */
  u64(at: number, field: string): number {
    this.#check(at, 8, field);
    const value = this.#view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw hypervisorError(this.#code, `${this.#what}: ${field} is 0x${value.toString(16)}, too large`, { field, value: value.toString() });
    }
    return Number(value);
  }
}

export class LeWriter {
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.#view = new DataView(this.bytes.buffer);
  }

  u32(at: number, value: number): void {
    this.#view.setUint32(at, value, true);
  }

  u64(at: number, value: number | bigint): void {
    this.#view.setBigUint64(at, BigInt(value), true);
  }
}
