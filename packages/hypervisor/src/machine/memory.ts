// Guest RAM: anonymous mappings registered as KVM memory slots, split around the MMIO hole below 4 GiB.
// planRegions is pure (the layout); GuestMemory owns the mappings and reads and writes by guest-physical
// address. A vCPU worker attaches to the same mappings by host address, without owning them.
import { Mapping, mmap } from '@isola/sys';
import { hex, hypervisorError } from '../errors.js';
import { MIN_MEMORY, MMIO_HOLE_END, MMIO_HOLE_START } from './layout.js';

export interface RegionPlan {
  guestAddress: number;
  size: number;
}

/** One slot stays below 2 GiB so a single Uint8Array can view it. */
const MAX_REGION = 0x8000_0000;

/** The RAM regions of a machine with `bytes` of memory: below the hole, then from 4 GiB. */
export function planRegions(bytes: number): RegionPlan[] {
  if (!Number.isSafeInteger(bytes) || bytes < MIN_MEMORY || bytes % 4096 !== 0) {
    throw hypervisorError('EVM_CONFIG', `guest memory of ${bytes} bytes: must be a multiple of 4 KiB and at least ${MIN_MEMORY >> 20} MiB`, { bytes });
  }
  const plan: RegionPlan[] = [];
  const push = (start: number, size: number) => {
    for (let at = start; at < start + size; at += MAX_REGION) plan.push({ guestAddress: at, size: Math.min(MAX_REGION, start + size - at) });
  };
  const low = Math.min(bytes, MMIO_HOLE_START);
  push(0, low);
  if (bytes > low) push(MMIO_HOLE_END, bytes - low);
  return plan;
}

export interface RegionDescriptor extends RegionPlan {
  /** Host virtual address of the mapping. */
  hostAddress: bigint;
}

interface Region extends RegionDescriptor {
  bytes: Uint8Array;
  mapping: Mapping;
}

export class GuestMemory {
  readonly regions: readonly Region[];
  readonly #owned: boolean;

  private constructor(regions: Region[], owned: boolean) {
    this.regions = regions;
    this.#owned = owned;
  }

  /** Maps fresh, zeroed memory for every region of `bytes`. */
  static allocate(bytes: number): GuestMemory {
    const regions: Region[] = [];
    try {
      for (const plan of planRegions(bytes)) {
        const mapping = mmap(plan.size);
        regions.push({ ...plan, hostAddress: mapping.address, bytes: mapping.bytes, mapping });
      }
    } catch (error) {
      for (const region of regions) region.mapping.unmap();
      throw error;
    }
    return new GuestMemory(regions, true);
  }

  /** Views memory another thread allocated (a vCPU worker): close() leaves the mappings alone. */
  static attach(descriptors: readonly RegionDescriptor[]): GuestMemory {
    return new GuestMemory(
      descriptors.map((d) => {
        const mapping = new Mapping(d.hostAddress, d.size);
        return { ...d, bytes: mapping.bytes, mapping };
      }),
      false,
    );
  }

  get size(): number {
    return this.regions.reduce((sum, r) => sum + r.size, 0);
  }

  /** What a worker needs to attach. */
  describe(): RegionDescriptor[] {
    return this.regions.map(({ guestAddress, size, hostAddress }) => ({ guestAddress, size, hostAddress }));
  }

  /** The region holding [address, address + length), or undefined for the hole and beyond. */
  find(address: number | bigint, length = 1): Region | undefined {
    const at = Number(address);
    return this.regions.find((r) => at >= r.guestAddress && at + length <= r.guestAddress + r.size);
  }

  /** A view of guest RAM, which must lie within one region. */
  slice(address: number | bigint, length: number): Uint8Array {
    const region = this.find(address, length);
    if (!region) {
      throw hypervisorError('EVM_GUEST_MEMORY', `guest memory [${hex(address)}, +${hex(length)}) is not RAM`, { address: Number(address), length });
    }
    const offset = Number(address) - region.guestAddress;
    return region.bytes.subarray(offset, offset + length);
  }

  write(address: number | bigint, data: Uint8Array): void {
    this.slice(address, data.length).set(data);
  }

  read(address: number | bigint, length: number): Uint8Array {
    return this.slice(address, length).slice();
  }

  close(): void {
    if (this.#owned) for (const region of this.regions) region.mapping.unmap();
  }
}
