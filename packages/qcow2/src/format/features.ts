// Feature bits (qcow2.txt header fields 72..95) and what this implementation does with them. An unknown
// incompatible bit must make open fail; the message names it from the image's own feature name table
// when the image has one, so a user learns "extended l2" rather than "bit 4".
import * as zlib from 'node:zlib';
import { imageError } from '../errors.js';
import type { FeatureKind, FeatureName } from './extensions.js';
import type { Qcow2Header } from './header.js';

export const INCOMPAT_DIRTY = 0;
export const INCOMPAT_CORRUPT = 1;
export const INCOMPAT_DATA_FILE = 2;
export const INCOMPAT_COMPRESSION = 3;
export const INCOMPAT_EXTENDED_L2 = 4;
export const COMPAT_LAZY_REFCOUNTS = 0;
export const AUTOCLEAR_BITMAPS = 0;
export const AUTOCLEAR_DATA_FILE_RAW = 1;

/** The names qemu writes in its feature name table; createImage writes the same table. */
export const KNOWN_FEATURES: readonly FeatureName[] = [
  { kind: 'incompatible', bit: INCOMPAT_DIRTY, name: 'dirty bit' },
  { kind: 'incompatible', bit: INCOMPAT_CORRUPT, name: 'corrupt bit' },
  { kind: 'incompatible', bit: INCOMPAT_DATA_FILE, name: 'external data file' },
  { kind: 'incompatible', bit: INCOMPAT_COMPRESSION, name: 'compression type' },
  { kind: 'incompatible', bit: INCOMPAT_EXTENDED_L2, name: 'extended L2 entries' },
  { kind: 'compatible', bit: COMPAT_LAZY_REFCOUNTS, name: 'lazy refcounts' },
  { kind: 'autoclear', bit: AUTOCLEAR_BITMAPS, name: 'bitmaps' },
  { kind: 'autoclear', bit: AUTOCLEAR_DATA_FILE_RAW, name: 'raw external data' },
];

/** Incompatible bits this implementation can read: the rest are refused. */
const READABLE_INCOMPAT = [INCOMPAT_DIRTY, INCOMPAT_CORRUPT, INCOMPAT_DATA_FILE, INCOMPAT_COMPRESSION, INCOMPAT_EXTENDED_L2];

export function hasBit(mask: bigint, bit: number): boolean {
  return (mask & (1n << BigInt(bit))) !== 0n;
}

export function setBits(mask: bigint): number[] {
  const bits: number[] = [];
  for (let bit = 0; bit < 64; bit++) if (hasBit(mask, bit)) bits.push(bit);
  return bits;
}

/** "extended L2 entries", or "incompatible bit 9" when neither the image nor we know its name. */
export function featureName(kind: FeatureKind, bit: number, table: readonly FeatureName[]): string {
  const named = table.find((f) => f.kind === kind && f.bit === bit) ?? KNOWN_FEATURES.find((f) => f.kind === kind && f.bit === bit);
  return named ? named.name : `${kind} bit ${bit}`;
}

/**
 * Refuses images this code cannot read correctly: unknown incompatible features, compression types
 * this Node.js cannot decompress, and encryption. The dirty and corrupt bits only forbid writing (see writeBlockers).
 */
export function checkReadable(h: Qcow2Header, table: readonly FeatureName[], path: string): void {
  const unknown = setBits(h.incompatibleFeatures).filter((bit) => !READABLE_INCOMPAT.includes(bit));
  if (unknown.length > 0) {
    const names = unknown.map((bit) => featureName('incompatible', bit, table));
    throw imageError('EQCOW2_UNKNOWN_FEATURE', path, `uses unknown incompatible feature(s): ${names.join(', ')}`, {
      bits: unknown,
      names,
    });
  }
  const compressionBit = hasBit(h.incompatibleFeatures, INCOMPAT_COMPRESSION);
  if (compressionBit !== (h.compressionType !== 0)) {
    throw imageError('EQCOW2_BAD_HEADER', path, `compression type bit is ${compressionBit ? 'set' : 'clear'} but compression_type is ${h.compressionType}`);
  }
  if (h.compressionType > 1) {
    throw imageError('EQCOW2_UNSUPPORTED_FEATURE', path, `uses compression type ${h.compressionType}; only zlib (0) and zstd (1) exist`, {
      feature: 'compression type',
      compressionType: h.compressionType,
    });
  }
  if (h.compressionType === 1 && zstdDecompressor() === undefined) {
    throw imageError(
      'EQCOW2_UNSUPPORTED_FEATURE',
      path,
      `uses zstd compression, which this Node.js (${process.version}) cannot decompress: zstd came to node:zlib in Node 22.15 and 23.8`,
      { feature: 'compression type', compressionType: h.compressionType },
    );
  }
  if (h.cryptMethod !== 0) {
    const method = h.cryptMethod === 1 ? 'AES' : h.cryptMethod === 2 ? 'LUKS' : `method ${h.cryptMethod}`;
    throw imageError('EQCOW2_ENCRYPTED', path, `is encrypted (${method}); encrypted images are not supported`, {
      cryptMethod: h.cryptMethod,
    });
  }
  if (h.clusterBits < 14 && hasBit(h.incompatibleFeatures, INCOMPAT_EXTENDED_L2)) {
    throw imageError('EQCOW2_BAD_HEADER', path, `extended L2 entries need clusters of 16 KiB or more, not ${2 ** h.clusterBits}`);
  }
}

/**
 * Why this image may be read but not written, or undefined when it may be written. The corrupt bit is
 * not here: such an image opens read-only. Nor is the dirty bit: opening for writing repairs it.
 */
export function writeBlocker(h: Qcow2Header): string | undefined {
  if (hasBit(h.incompatibleFeatures, INCOMPAT_DATA_FILE)) return 'writing images with an external data file is not supported';
  return undefined;
}

/** node:zlib's one-shot zstd decoder, on the Node versions that have one. */
export function zstdDecompressor(): ((input: Uint8Array, options: { maxOutputLength: number }) => Buffer) | undefined {
  const candidate = (zlib as unknown as Record<string, unknown>).zstdDecompressSync;
  return typeof candidate === 'function' ? (candidate as (input: Uint8Array, options: { maxOutputLength: number }) => Buffer) : undefined;
}
