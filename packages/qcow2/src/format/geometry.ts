// Sizes derived from cluster_bits, refcount_order and the extended-L2 bit: computed once per image so
// that mapping code does arithmetic, not header lookups.
import { isExtendedL2, type Qcow2Header } from './header.js';

export interface Geometry {
  clusterBits: number;
  clusterSize: number;
  extendedL2: boolean;
  /**
   * Data clusters live in an external data file, where host offset 0 is a valid cluster: an entry with
   * offset 0 and the copied flag is data there, not unallocated.
   */
  externalData: boolean;
  /** 8, or 16 with extended L2 entries. */
  l2EntrySize: number;
  l2Entries: number;
  /** Bytes of guest disk one L1 entry (one L2 table) maps. */
  l1Span: number;
  /** clusterSize / 32 with extended L2 entries, else clusterSize. */
  subclusterSize: number;
  refcountOrder: number;
  refcountBits: number;
  refcountBlockEntries: number;
  /** Entries in one cluster of the refcount table. */
  reftableEntriesPerCluster: number;
}

export function geometryOf(h: Pick<Qcow2Header, 'clusterBits' | 'refcountOrder' | 'incompatibleFeatures'>): Geometry {
  const clusterSize = 2 ** h.clusterBits;
  const extendedL2 = isExtendedL2(h);
  const l2EntrySize = extendedL2 ? 16 : 8;
  const l2Entries = clusterSize / l2EntrySize;
  const refcountBits = 2 ** h.refcountOrder;
  return {
    clusterBits: h.clusterBits,
    clusterSize,
    extendedL2,
    externalData: (h.incompatibleFeatures & (1n << 2n)) !== 0n,
    l2EntrySize,
    l2Entries,
    l1Span: l2Entries * clusterSize,
    subclusterSize: extendedL2 ? clusterSize / 32 : clusterSize,
    refcountOrder: h.refcountOrder,
    refcountBits,
    refcountBlockEntries: (clusterSize * 8) / refcountBits,
    reftableEntriesPerCluster: clusterSize / 8,
  };
}

/** L1 entries needed to map a disk of `size` bytes. */
export function l1EntriesFor(g: Geometry, size: number): number {
  return Math.ceil(size / g.l1Span);
}

export function roundUpToCluster(g: Geometry, bytes: number): number {
  return Math.ceil(bytes / g.clusterSize) * g.clusterSize;
}
