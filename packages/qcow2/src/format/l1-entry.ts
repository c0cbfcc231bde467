// L1 table entries (qcow2.txt, "Cluster mapping"): bits 9..55 are the L2 table's offset, bit 63 says
// its refcount is exactly one ("copied": it may be updated in place). Other bits are reserved.
import { hex, imageError } from '../errors.js';
import { readU32, splitU64, writeU32 } from './endian.js';

export interface L1Entry {
  /** 0 when the L2 table is not allocated. */
  l2Offset: number;
  copied: boolean;
}

const HI_RESERVED = 0x7f000000; // bits 56..62
const LO_RESERVED = 0x000001ff; // bits 0..8
const HI_BEYOND_2_53 = 0x00e00000; // bits 53..55: offsets we cannot hold in a number

export function readL1Entry(table: Uint8Array, index: number, clusterSize: number, path: string): L1Entry {
  const hi = readU32(table, index * 8);
  const lo = readU32(table, index * 8 + 4);
  if ((hi & HI_RESERVED) !== 0 || (lo & LO_RESERVED) !== 0 || (hi & HI_BEYOND_2_53) !== 0) {
    throw imageError('EQCOW2_BAD_L1_ENTRY', path, `L1 entry ${index} (${hex(hi)}_${lo.toString(16).padStart(8, '0')}) has reserved bits set`, {
      index,
    });
  }
  const l2Offset = (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
  if (l2Offset % clusterSize !== 0) {
    throw imageError('EQCOW2_BAD_L1_ENTRY', path, `L1 entry ${index} points at ${hex(l2Offset)}, not cluster-aligned`, {
      index,
      offset: l2Offset,
    });
  }
  return { l2Offset, copied: (hi & 0x80000000) !== 0 };
}

export function writeL1Entry(table: Uint8Array, index: number, entry: L1Entry): void {
  const { hi, lo } = splitU64(entry.l2Offset);
  writeU32(table, index * 8, (hi | (entry.copied ? 0x80000000 : 0)) >>> 0);
  writeU32(table, index * 8 + 4, lo);
}
