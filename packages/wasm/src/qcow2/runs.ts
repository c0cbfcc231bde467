// What the WASM facade and the reference share: the run type, the kinds' numbering (as assembly/qcow2.ts
// writes them) and the argument checks.
import { IsolaError } from '@isola/errors';

/**
 * 'unallocated' and 'zero' runs cover entries of that kind; 'data' runs cover entries whose host
 * clusters follow each other from hostOffset; 'other' is one entry the caller must decode itself
 * (compressed, a mix of subcluster states, or an entry that is not valid).
 */
export type L2RunKind = 'unallocated' | 'zero' | 'data' | 'other';

export interface L2Run {
  kind: L2RunKind;
  /** Index of the run's first entry in the table. */
  first: number;
  count: number;
  /** The first entry's host offset (data runs; 0 for the others). */
  hostOffset: number;
}

/** The parts of a qcow2 image's geometry the mapping depends on. */
export interface L2Geometry {
  /** 9 to 21. */
  clusterBits: number;
  /** 16-byte entries with subcluster bitmaps. */
  extendedL2: boolean;
  /** Data clusters live in an external data file, where offset 0 with the copied flag is data. */
  externalData: boolean;
}

export const KINDS: readonly L2RunKind[] = ['unallocated', 'zero', 'data', 'other'];

export function entrySize(g: L2Geometry): number {
  return g.extendedL2 ? 16 : 8;
}

/** Checks that [first, first + count) are whole entries of table. */
export function checkBatch(table: Uint8Array, first: number, count: number, g: L2Geometry): void {
  if (!Number.isInteger(g.clusterBits) || g.clusterBits < 9 || g.clusterBits > 21) {
    throw new IsolaError('EL2_GEOMETRY', `cluster_bits ${g.clusterBits} is outside 9..21`, { details: { clusterBits: g.clusterBits } });
  }
  const size = entrySize(g);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 0 || (first + count) * size > table.length) {
    throw new IsolaError('EL2_RANGE', `L2 entries ${first}..${first + count} are outside a ${table.length}-byte table`, {
      details: { first, count, tableBytes: table.length },
    });
  }
}
