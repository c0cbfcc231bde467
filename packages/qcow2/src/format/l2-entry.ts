// L2 table entries (qcow2.txt, "Cluster mapping" and "Extended L2 Entries"), decoded into a union that
// says what a guest cluster is: unallocated, zero (v3), a normal host cluster, compressed bytes, or, with
// extended L2 entries, a host cluster plus the per-subcluster allocated/zero bitmaps.
import { hex, imageError } from '../errors.js';
import { readU32, splitU64, writeU32 } from './endian.js';
import type { Geometry } from './geometry.js';

/**
 * With extended L2 entries, 'normal', 'zero' and 'unallocated' stand for uniform bitmaps (every subcluster
 * allocated, every one zero, none of either without a host cluster); 'subclusters' is any other mix.
 */
export type L2Entry =
  | { kind: 'unallocated' }
  /** Reads as zeros; hostOffset (possibly 0) is a preallocated cluster kept for a later write. */
  | { kind: 'zero'; hostOffset: number; copied: boolean }
  | { kind: 'normal'; hostOffset: number; copied: boolean }
  /** compressedSize counts from hostOffset to the end of the last 512-byte sector the data touches. */
  | { kind: 'compressed'; hostOffset: number; compressedSize: number }
  /** Extended L2: bit i of allocated/zero describes subcluster i. */
  | { kind: 'subclusters'; hostOffset: number; copied: boolean; allocated: number; zero: number };

const COPIED = 0x80000000;
const COMPRESSED = 0x40000000;
const HI_RESERVED = 0x3f000000; // bits 56..61
const LO_RESERVED = 0x000001fe; // bits 1..8
const HI_BEYOND_2_53 = 0x00e00000;
const SECTOR = 512;
/** Every subcluster of a cluster (32 of them). */
const ALL = 0xffffffff;

export function readL2Entry(table: Uint8Array, index: number, g: Geometry, path: string): L2Entry {
  const at = index * g.l2EntrySize;
  const hi = readU32(table, at);
  const lo = readU32(table, at + 4);
  const bad = (problem: string): never => {
    throw imageError('EQCOW2_BAD_L2_ENTRY', path, `L2 entry ${index} (${hex(hi)}_${lo.toString(16).padStart(8, '0')}) ${problem}`, {
      index,
    });
  };
  if ((hi & COMPRESSED) !== 0) return readCompressed(hi, lo, g, bad);
  const zeroFlag = (lo & 1) !== 0;
  if ((hi & HI_RESERVED) !== 0 || (lo & LO_RESERVED) !== 0 || (g.extendedL2 && zeroFlag)) bad('has reserved bits set');
  if ((hi & HI_BEYOND_2_53) !== 0) bad('points beyond 2^53');
  const hostOffset = (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
  if (hostOffset % g.clusterSize !== 0) bad(`points at ${hex(hostOffset)}, not cluster-aligned`);
  const copied = (hi & COPIED) !== 0;
  if (g.extendedL2) {
    const allocated = readU32(table, at + 12);
    const zero = readU32(table, at + 8);
    if ((allocated & zero) !== 0) bad('marks subclusters both allocated and zero');
    if (allocated !== 0 && hostOffset === 0 && !g.externalData) bad('has allocated subclusters but no host cluster');
    // Uniform bitmaps read as the plain kinds, so code that handles whole clusters needs no extended case.
    if (allocated === ALL && zero === 0) return { kind: 'normal', hostOffset, copied };
    if (zero === ALL) return { kind: 'zero', hostOffset, copied };
    if (allocated === 0 && zero === 0 && hostOffset === 0) return { kind: 'unallocated' };
    return { kind: 'subclusters', hostOffset, copied, allocated, zero };
  }
  if (zeroFlag) return { kind: 'zero', hostOffset, copied };
  if (hostOffset === 0 && !(g.externalData && copied)) return { kind: 'unallocated' };
  return { kind: 'normal', hostOffset, copied };
}

/** Compressed descriptor: offset in bits 0..x-1, extra sectors in x..61, x = 62 - (cluster_bits - 8). */
function readCompressed(hi: number, lo: number, g: Geometry, bad: (problem: string) => never): L2Entry {
  const value = (BigInt(hi & 0x3fffffff) << 32n) | BigInt(lo);
  const shift = BigInt(62 - (g.clusterBits - 8));
  const hostOffset = value & ((1n << shift) - 1n);
  const extraSectors = Number((value >> shift) & ((1n << BigInt(g.clusterBits - 8)) - 1n));
  if (hostOffset >= 1n << 53n) bad('points beyond 2^53');
  const offset = Number(hostOffset);
  if (offset === 0) bad('is compressed at offset 0');
  return { kind: 'compressed', hostOffset: offset, compressedSize: (extraSectors + 1) * SECTOR - (offset % SECTOR) };
}

export function writeL2Entry(table: Uint8Array, index: number, g: Geometry, entry: L2Entry): void {
  const at = index * g.l2EntrySize;
  let hi = 0;
  let lo = 0;
  let allocated = 0;
  let zero = 0;
  switch (entry.kind) {
    case 'unallocated':
      break;
    case 'zero':
    case 'normal':
    case 'subclusters': {
      ({ hi, lo } = splitU64(entry.hostOffset));
      if (entry.copied) hi = (hi | COPIED) >>> 0;
      if (!g.extendedL2) {
        if (entry.kind === 'zero') lo = (lo | 1) >>> 0;
        if (entry.kind === 'subclusters') throw new RangeError('subcluster entries need an extended L2 image');
      } else if (entry.kind === 'subclusters') ({ allocated, zero } = entry);
      else if (entry.kind === 'zero') zero = ALL;
      else allocated = ALL;
      break;
    }
    case 'compressed': {
      const shift = BigInt(62 - (g.clusterBits - 8));
      const sectors = Math.ceil(((entry.hostOffset % SECTOR) + entry.compressedSize) / SECTOR);
      if (sectors > 2 ** (g.clusterBits - 8)) throw new RangeError(`${entry.compressedSize} compressed bytes do not fit an L2 entry`);
      const value = (1n << 62n) | (BigInt(sectors - 1) << shift) | BigInt(entry.hostOffset);
      hi = Number(value >> 32n);
      lo = Number(value & 0xffffffffn);
      break;
    }
  }
  writeU32(table, at, hi);
  writeU32(table, at + 4, lo);
  if (g.extendedL2) {
    writeU32(table, at + 8, zero >>> 0);
    writeU32(table, at + 12, allocated >>> 0);
  }
}

/** The most compressed bytes a cluster may take: what fits the sector-count field. */
export function maxCompressedSize(g: Geometry): number {
  return 2 ** (g.clusterBits - 8) * SECTOR;
}
