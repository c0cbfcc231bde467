// Memory mappings. A Mapping owns its pages and exposes them as a Uint8Array, so callers never handle
// raw pointers except to hand the address to the kernel (e.g. KVM_SET_USER_MEMORY_REGION).
import * as c from '../abi/constants.js';
import { SyscallError, check } from '../errors.js';
import { lastErrno, libc, viewMemory } from '../libc.js';

const MAP_FAILED = 0xffffffffffffffffn;

export class Mapping {
  /** The mapping's host virtual address. */
  readonly address: bigint;
  readonly length: number;
  readonly bytes: Uint8Array;
  #unmapped = false;

  constructor(address: bigint, length: number) {
    this.address = address;
    this.length = length;
    this.bytes = new Uint8Array(viewMemory(address, length));
  }

  protect(prot: number, offset = 0, length = this.length - offset): void {
    mprotect(this.address + BigInt(offset), length, prot);
  }

  advise(advice: number, offset = 0, length = this.length - offset): void {
    madvise(this.address + BigInt(offset), length, advice);
  }

  unmap(): void {
    if (this.#unmapped) return;
    munmap(this.address, this.length);
    this.#unmapped = true;
  }
}

export interface MmapOptions {
  prot?: number;
  flags?: number;
  fd?: number;
  offset?: number | bigint;
}

/** mmap; anonymous private read-write memory by default. */
export function mmap(length: number, options: MmapOptions = {}): Mapping {
  const prot = options.prot ?? c.PROT_READ | c.PROT_WRITE;
  const fd = options.fd ?? -1;
  const flags = options.flags ?? (fd === -1 ? c.MAP_PRIVATE | c.MAP_ANONYMOUS : c.MAP_SHARED);
  const address = libc.mmap(null, length, prot, flags, fd, BigInt(options.offset ?? 0)) as bigint | null;
  if (address === null || BigInt(address) === MAP_FAILED) {
    throw new SyscallError('mmap', `${length} bytes, prot 0x${prot.toString(16)}, flags 0x${flags.toString(16)}, fd ${fd}`, lastErrno());
  }
  return new Mapping(BigInt(address), length);
}

export function munmap(address: bigint, length: number): void {
  check(libc.munmap(address, length), 'munmap', () => `0x${address.toString(16)}, ${length}`);
}

export function mprotect(address: bigint, length: number, prot: number): void {
  check(libc.mprotect(address, length, prot), 'mprotect', () => `0x${address.toString(16)}, ${length}, 0x${prot.toString(16)}`);
}

export function madvise(address: bigint, length: number, advice: number): void {
  check(libc.madvise(address, length, advice), 'madvise', () => `0x${address.toString(16)}, ${length}, ${advice}`);
}
