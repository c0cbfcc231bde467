import { describe, expect, it } from 'vitest';
import { geometryOf } from './geometry.js';
import { readL1Entry, writeL1Entry } from './l1-entry.js';
import { type L2Entry, readL2Entry, writeL2Entry } from './l2-entry.js';
import { readRefcount, refcountByteRange, writeRefcount } from './refcount.js';
import { clusterSegments } from './segment.js';

const g64k = geometryOf({ clusterBits: 16, refcountOrder: 4, incompatibleFeatures: 0n });
const gExt = geometryOf({ clusterBits: 16, refcountOrder: 4, incompatibleFeatures: 1n << 4n });

describe('L1 and L2 entries', () => {
  it('round-trips L1 entries and refuses reserved bits', () => {
    const table = new Uint8Array(16);
    writeL1Entry(table, 1, { l2Offset: 0x1234_5678_0000, copied: true });
    expect(readL1Entry(table, 1, 65536, 'x')).toEqual({ l2Offset: 0x1234_5678_0000, copied: true });
    table[15] |= 1;
    expect(() => readL1Entry(table, 1, 65536, 'x')).toThrow(/reserved/);
  });

  it.each<L2Entry>([
    { kind: 'unallocated' },
    { kind: 'normal', hostOffset: 0x7_0000_0000, copied: true },
    { kind: 'normal', hostOffset: 0x30000, copied: false },
    { kind: 'zero', hostOffset: 0, copied: false },
    { kind: 'zero', hostOffset: 0x50000, copied: true },
  ])('round-trips %o', (entry) => {
    const table = new Uint8Array(64);
    writeL2Entry(table, 3, g64k, entry);
    expect(readL2Entry(table, 3, g64k, 'x')).toEqual(entry);
  });

  it('encodes compressed descriptors with the sector count qemu uses, for every cluster size', () => {
    for (let bits = 9; bits <= 21; bits++) {
      const g = geometryOf({ clusterBits: bits, refcountOrder: 4, incompatibleFeatures: 0n });
      const table = new Uint8Array(16);
      // 1000 bytes starting 100 bytes into a sector occupy 3 sectors: size counted to the last one's end.
      // 512-byte clusters have a 1-bit sector count (2 sectors at most), so there 500 bytes, 2 sectors.
      const size = bits === 9 ? 500 : 1000;
      writeL2Entry(table, 1, g, { kind: 'compressed', hostOffset: 0x12_3400 + 100, compressedSize: size });
      const sectors = bits === 9 ? 2 : 3;
      expect(readL2Entry(table, 1, g, 'x')).toEqual({ kind: 'compressed', hostOffset: 0x12_3400 + 100, compressedSize: sectors * 512 - 100 });
      expect(table[8] & 0x40).toBe(0x40); // bit 62 of entry 1
    }
  });

  it('reads extended entries and refuses subclusters both allocated and zero', () => {
    const table = new Uint8Array(64);
    const entry: L2Entry = { kind: 'subclusters', hostOffset: 0x20000, copied: true, allocated: 0b0110, zero: 0x8000_0001 };
    writeL2Entry(table, 2, gExt, entry);
    expect(readL2Entry(table, 2, gExt, 'x')).toEqual({ ...entry, zero: 0x8000_0001 >>> 0 });
    writeL2Entry(table, 2, gExt, { ...entry, zero: 0b0100 });
    expect(() => readL2Entry(table, 2, gExt, 'x')).toThrow(/both allocated and zero/);
  });

  it('plans subcluster reads as merged runs of data, zero and backing', () => {
    const entry: L2Entry = { kind: 'subclusters', hostOffset: 0x20000, copied: true, allocated: 0b0110, zero: 0b1000 };
    const sc = gExt.subclusterSize; // 2 KiB
    expect(clusterSegments(entry, gExt, 100, 5 * sc)).toEqual([
      { source: 'backing', length: sc - 100 },
      { source: 'data', length: 2 * sc, hostOffset: 0x20000 + sc },
      { source: 'zero', length: sc },
      { source: 'backing', length: sc + 100 },
    ]);
  });
});

describe('refcount entries', () => {
  it('stores every width from 1 to 64 bits without touching neighbours', () => {
    for (let order = 0; order <= 6; order++) {
      const block = new Uint8Array(64);
      const max = order === 6 ? 2 ** 53 - 1 : 2 ** (1 << order) - 1;
      for (let i = 0; i < 8; i++) writeRefcount(block, i, order, i % 2 === 0 ? max : 1);
      writeRefcount(block, 3, order, 0);
      for (let i = 0; i < 8; i++) expect(readRefcount(block, i, order, 'x')).toBe(i === 3 ? 0 : i % 2 === 0 ? max : 1);
      const [start, end] = refcountByteRange(3, order);
      expect(end - start).toBe(Math.max(1, (1 << order) / 8));
    }
  });

  it('puts bit 0 of a sub-byte entry in the least significant bit, as the spec says', () => {
    const block = new Uint8Array(1);
    writeRefcount(block, 0, 0, 1);
    writeRefcount(block, 2, 1, 3);
    expect(block[0]).toBe(0b0011_0001);
  });
});
