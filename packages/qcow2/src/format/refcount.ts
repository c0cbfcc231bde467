// Refcount table and block entries (qcow2.txt, "Host cluster management"). Block entries are
// refcount_bits = 1 << refcount_order wide, 1 to 64 bits; sub-byte entries count bit 0 as the least
// significant bit of their byte, wider ones are big-endian. Values above 2^53 cannot occur in practice
// (they would need that many snapshots) and are refused rather than silently rounded.
import { hex, imageError } from '../errors.js';
import { readU32, readU64Number, splitU64, writeU32 } from './endian.js';

export function readRefcount(block: Uint8Array, index: number, order: number, path: string): number {
  const bits = 1 << order;
  if (bits < 8) {
    const perByte = 8 / bits;
    const byte = block[Math.floor(index / perByte)];
    return (byte >> ((index % perByte) * bits)) & ((1 << bits) - 1);
  }
  const at = index * (bits / 8);
  if (bits === 8) return block[at];
  if (bits === 16) return (block[at] << 8) | block[at + 1];
  if (bits === 32) return readU32(block, at);
  const value = readU64Number(block, at);
  if (value === undefined) throw imageError('EQCOW2_BAD_REFCOUNT', path, `refcount entry ${index} is beyond 2^53`, { index });
  return value;
}

/** Largest refcount an entry of this order holds. */
export function maxRefcount(order: number): number {
  return order === 6 ? Number.MAX_SAFE_INTEGER : 2 ** (1 << order) - 1;
}

export function writeRefcount(block: Uint8Array, index: number, order: number, value: number): void {
  const bits = 1 << order;
  if (bits < 8) {
    const perByte = 8 / bits;
    const at = Math.floor(index / perByte);
    const shift = (index % perByte) * bits;
    const mask = ((1 << bits) - 1) << shift;
    block[at] = (block[at] & ~mask) | ((value << shift) & mask);
    return;
  }
  const at = index * (bits / 8);
  if (bits === 8) block[at] = value;
  else if (bits === 16) {
    block[at] = value >>> 8;
    block[at + 1] = value & 0xff;
  } else if (bits === 32) writeU32(block, at, value);
  else {
    const { hi, lo } = splitU64(value);
    writeU32(block, at, hi);
    writeU32(block, at + 4, lo);
  }
}

/** The byte range of a block that holds entry `index`: what must be rewritten after it changes. */
export function refcountByteRange(index: number, order: number): [start: number, end: number] {
  const bits = 1 << order;
  const startBit = index * bits;
  return [Math.floor(startBit / 8), Math.ceil((startBit + bits) / 8)];
}

/** Refcount table entry: a refcount block's offset (0 = not allocated); bits 0..8 are reserved. */
export function readReftableEntry(table: Uint8Array, index: number, clusterSize: number, path: string): number {
  const offset = readU64Number(table, index * 8);
  if (offset === undefined || offset % clusterSize !== 0) {
    const shown = offset === undefined ? 'beyond 2^53' : hex(offset);
    throw imageError('EQCOW2_BAD_REFCOUNT', path, `refcount table entry ${index} (${shown}) is not a cluster-aligned offset`, {
      index,
    });
  }
  return offset;
}

export function writeReftableEntry(table: Uint8Array, index: number, offset: number): void {
  const { hi, lo } = splitU64(offset);
  writeU32(table, index * 8, hi);
  writeU32(table, index * 8 + 4, lo);
}
