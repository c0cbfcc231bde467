// Subcluster bitmaps of extended L2 entries (qcow2.txt, "Extended L2 Entries"): which of a cluster's 32
// subclusters a write touches, and what an entry's bitmaps become once those subclusters hold data.
// Pure arithmetic: the writer (image/cluster-writer.ts) decides when to write and with which barriers.
import type { Geometry } from './geometry.js';
import type { L2Entry } from './l2-entry.js';

export interface Bitmaps {
  allocated: number;
  zero: number;
}

const ALL = 0xffffffff;

/** Bit i set for each subcluster i that [inCluster, inCluster + length) overlaps; length > 0. */
export function touchedMask(g: Geometry, inCluster: number, length: number): number {
  if (!g.extendedL2) return 1;
  const first = Math.floor(inCluster / g.subclusterSize);
  const last = Math.floor((inCluster + length - 1) / g.subclusterSize);
  const upTo = last === 31 ? ALL : (2 ** (last + 1) - 1) >>> 0;
  return (upTo & ~((2 ** first - 1) >>> 0)) >>> 0;
}

/** The bitmaps an entry of any kind stands for (compressed and plain data: every subcluster allocated). */
export function bitmapsOf(entry: L2Entry): Bitmaps {
  switch (entry.kind) {
    case 'unallocated':
      return { allocated: 0, zero: 0 };
    case 'zero':
      return { allocated: 0, zero: ALL };
    case 'subclusters':
      return { allocated: entry.allocated >>> 0, zero: entry.zero >>> 0 };
    default:
      return { allocated: ALL, zero: 0 };
  }
}

/** Whether every subcluster in mask already holds data in the entry's host cluster. */
export function holdsData(entry: L2Entry, mask: number): boolean {
  return ((bitmapsOf(entry).allocated & mask) >>> 0) === mask >>> 0;
}

/** The bitmaps after the subclusters in mask were written: allocated, and no longer zero. */
export function afterWrite(entry: L2Entry, mask: number): Bitmaps {
  const { allocated, zero } = bitmapsOf(entry);
  return { allocated: (allocated | mask) >>> 0, zero: (zero & ~mask) >>> 0 };
}

/** Rounds a guest offset down or up to a subcluster boundary (a cluster boundary without extended L2). */
export function alignDown(g: Geometry, offset: number): number {
  return offset - (offset % g.subclusterSize);
}

export function alignUp(g: Geometry, offset: number): number {
  return Math.ceil(offset / g.subclusterSize) * g.subclusterSize;
}
