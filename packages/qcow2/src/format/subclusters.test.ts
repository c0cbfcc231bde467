import { describe, expect, it } from 'vitest';
import { geometryOf } from './geometry.js';
import { type L2Entry, readL2Entry, writeL2Entry } from './l2-entry.js';
import { afterWrite, holdsData, touchedMask } from './subclusters.js';

const gExt = geometryOf({ clusterBits: 16, refcountOrder: 4, incompatibleFeatures: 1n << 4n });
const gPlain = geometryOf({ clusterBits: 16, refcountOrder: 4, incompatibleFeatures: 0n });

describe('subcluster bitmaps', () => {
  it('masks the subclusters a range touches, the last one included', () => {
    expect(touchedMask(gExt, 0, 1)).toBe(1);
    expect(touchedMask(gExt, 2047, 2)).toBe(0b11);
    expect(touchedMask(gExt, 5 * 2048, 2048)).toBe(1 << 5);
    expect(touchedMask(gExt, 0, 65536)).toBe(0xffffffff);
    expect(touchedMask(gExt, 31 * 2048 + 5, 1)).toBe(0x80000000);
    expect(touchedMask(gExt, 30 * 2048, 4096)).toBe(0xc0000000);
    expect(touchedMask(gPlain, 100, 5)).toBe(1);
  });

  it('turns written subclusters from zero or backing into data', () => {
    const entry: L2Entry = { kind: 'subclusters', hostOffset: 0x30000, copied: true, allocated: 0b0011, zero: 0b1100 };
    expect(holdsData(entry, 0b0010)).toBe(true);
    expect(holdsData(entry, 0b0110)).toBe(false);
    expect(afterWrite(entry, 0b0110)).toEqual({ allocated: 0b0111, zero: 0b1000 });
    expect(afterWrite({ kind: 'zero', hostOffset: 0, copied: false }, 1)).toEqual({ allocated: 1, zero: 0xfffffffe });
    expect(afterWrite({ kind: 'unallocated' }, 0x80000000)).toEqual({ allocated: 0x80000000, zero: 0 });
  });

  it.each<[L2Entry, L2Entry]>([
    [{ kind: 'normal', hostOffset: 0x50000, copied: true }, { kind: 'normal', hostOffset: 0x50000, copied: true }],
    [{ kind: 'zero', hostOffset: 0, copied: false }, { kind: 'zero', hostOffset: 0, copied: false }],
    [{ kind: 'unallocated' }, { kind: 'unallocated' }],
    [{ kind: 'subclusters', hostOffset: 0x50000, copied: true, allocated: 0xffffffff, zero: 0 }, { kind: 'normal', hostOffset: 0x50000, copied: true }],
    [{ kind: 'subclusters', hostOffset: 0, copied: false, allocated: 0, zero: 0 }, { kind: 'unallocated' }],
  ])('stores %o in an extended entry and reads it back as %o', (written, read) => {
    const table = new Uint8Array(64);
    writeL2Entry(table, 1, gExt, written);
    expect(readL2Entry(table, 1, gExt, 'x')).toEqual(read);
  });

  it('refuses a subcluster entry in a plain L2 table', () => {
    expect(() => writeL2Entry(new Uint8Array(16), 0, gPlain, { kind: 'subclusters', hostOffset: 0, copied: false, allocated: 0, zero: 1 })).toThrow(RangeError);
  });
});
