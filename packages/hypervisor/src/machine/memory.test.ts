import { describe, expect, it } from 'vitest';
import { e820Map, E820_RAM } from './e820.js';
import { MMIO_HOLE_END, MMIO_HOLE_START } from './layout.js';
import { GuestMemory, planRegions } from './memory.js';

describe('planRegions', () => {
  it('puts small machines in one region at 0', () => {
    expect(planRegions(64 << 20)).toEqual([{ guestAddress: 0, size: 64 << 20 }]);
  });

  it('leaves the hole below 4 GiB and continues above it', () => {
    const plan = planRegions(4 * 2 ** 30);
    expect(plan).toEqual([
      { guestAddress: 0, size: 0x8000_0000 },
      { guestAddress: 0x8000_0000, size: MMIO_HOLE_START - 0x8000_0000 },
      { guestAddress: MMIO_HOLE_END, size: 2 ** 30 },
    ]);
  });

  it('rejects sizes that are not pages or too small', () => {
    expect(() => planRegions(1 << 20)).toThrow(/at least 2 MiB/);
    expect(() => planRegions((64 << 20) + 1)).toThrow(expect.objectContaining({ code: 'EVM_CONFIG' }));
  });
});

describe('e820Map', () => {
  it('reports low RAM, skips the legacy area, merges split regions and keeps the hole out', () => {
    expect(e820Map(planRegions(4 * 2 ** 30))).toEqual([
      { address: 0, size: 0x9fc00, type: E820_RAM },
      { address: 0x10_0000, size: MMIO_HOLE_START - 0x10_0000, type: E820_RAM },
      { address: MMIO_HOLE_END, size: 2 ** 30, type: E820_RAM },
    ]);
  });
});

describe('GuestMemory', () => {
  it('reads and writes by guest address, and refuses the hole', () => {
    const memory = GuestMemory.allocate(4 << 20);
    try {
      memory.write(0x1234, Uint8Array.of(1, 2, 3));
      expect([...memory.read(0x1233, 5)]).toEqual([0, 1, 2, 3, 0]);
      const other = GuestMemory.attach(memory.describe());
      expect(other.slice(0x1234, 1)[0]).toBe(1);
      other.close();
      expect(memory.slice(0x1234, 1)[0]).toBe(1);
      expect(() => memory.slice((4 << 20) - 2, 4)).toThrow(expect.objectContaining({ code: 'EVM_GUEST_MEMORY' }));
    } finally {
      memory.close();
    }
  });
});
