// Reads what a qcow2 file says about itself before any table is loaded: the header, its extensions, the
// backing file name, and the snapshot table. Shared by Qcow2Image (open) and check (which must read
// images too broken, dirty or corrupt to open for writing), and the header field rewrites both need.
import { IsolaError } from '@isola/errors';
import { findExtension, parseExtensions, type FeatureName, type HeaderExtension } from '../format/extensions.js';
import { writeU32, writeU64 } from '../format/endian.js';
import { imageError } from '../errors.js';
import { EXT_DATA_FILE } from '../format/extensions.js';
import { AUTOCLEAR_DATA_FILE_RAW, INCOMPAT_DATA_FILE, checkReadable, hasBit } from '../format/features.js';
import { geometryOf, type Geometry } from '../format/geometry.js';
import { MAX_CLUSTER_BITS, type Qcow2Header, V2_HEADER_LENGTH, checkHeaderLayout, parseHeader } from '../format/header.js';
import { parseSnapshots, type Snapshot } from '../format/snapshot.js';
import type { ImageFile } from './file.js';

export interface Metadata {
  header: Qcow2Header;
  g: Geometry;
  extensions: HeaderExtension[];
  featureTable: FeatureName[];
  backingName: string | undefined;
  backingFormat: string | undefined;
  /** The external data file's name (incompatible bit 2), as stored. */
  dataFileName: string | undefined;
  /** The autoclear "raw external data" bit: the data file is also a valid raw image of the disk. */
  dataFileRaw: boolean;
}

export async function readMetadata(file: ImageFile): Promise<Metadata> {
  const path = file.path;
  // The header, its extensions and the backing name all live in the first cluster, at most 2 MiB.
  const first = new Uint8Array(Math.min(file.length, 2 ** MAX_CLUSTER_BITS));
  await file.read(first, 0);
  const header = parseHeader(first, path);
  const g = geometryOf(header);
  const cluster0 = first.subarray(0, g.clusterSize);
  const extStart = header.version === 2 ? V2_HEADER_LENGTH : header.headerLength;
  const extEnd = header.backingFileOffset !== 0 ? header.backingFileOffset : g.clusterSize;
  const extensions = parseExtensions(cluster0, extStart, Math.min(extEnd, cluster0.length), path);
  const featureTable = findExtension(extensions, 'featureNames')?.features ?? [];
  checkReadable(header, featureTable, path);
  checkHeaderLayout(header, file.length, path);
  const backingName =
    header.backingFileOffset === 0
      ? undefined
      : Buffer.from(cluster0.subarray(header.backingFileOffset, header.backingFileOffset + header.backingFileSize)).toString('utf8');
  const backingFormat = findExtension(extensions, 'backingFormat')?.format;
  let dataFileName: string | undefined;
  if (hasBit(header.incompatibleFeatures, INCOMPAT_DATA_FILE)) {
    const ext = extensions.find((e) => e.kind === 'opaque' && e.type === EXT_DATA_FILE);
    if (ext === undefined || ext.kind !== 'opaque' || ext.data.length === 0) {
      throw imageError('EQCOW2_BAD_HEADER', path, 'uses an external data file but its header does not name one');
    }
    dataFileName = Buffer.from(ext.data).toString('utf8');
  }
  const dataFileRaw = dataFileName !== undefined && hasBit(header.autoclearFeatures, AUTOCLEAR_DATA_FILE_RAW);
  return { header, g, extensions, featureTable, backingName, backingFormat, dataFileName, dataFileRaw };
}

/** qemu's QCOW_MAX_SNAPSHOTS_SIZE: a longer table is refused rather than read. */
const MAX_SNAPSHOT_TABLE = 64 * 1024 * 1024;

export async function readSnapshots(file: ImageFile, header: Qcow2Header, g: Geometry): Promise<{ list: Snapshot[]; length: number }> {
  if (header.nbSnapshots === 0) return { list: [], length: 0 };
  const available = Math.min(MAX_SNAPSHOT_TABLE, file.length - header.snapshotsOffset);
  let length = Math.min(available, Math.max(g.clusterSize, 65536));
  for (;;) {
    const buf = new Uint8Array(length);
    await file.read(buf, header.snapshotsOffset);
    try {
      return parseSnapshots(buf, header.nbSnapshots, g.clusterSize, file.path);
    } catch (error) {
      const truncated = error instanceof IsolaError && error.details.truncated === true;
      if (!truncated || length >= available) throw error;
      length = Math.min(available, length * 2);
    }
  }
}

// Header fields rewritten in place. Each rewrite is one pwrite of adjacent fields, which the kernel
// applies atomically for a process crash (and a sector write is atomic on power loss).
export const SIZE_FIELDS_OFFSET = 24;
export const INCOMPAT_FIELD_OFFSET = 72;
export const SNAPSHOT_FIELDS_OFFSET = 60;

/** size, crypt_method, l1_size, l1_table_offset: what resizing and applying a snapshot change together. */
export async function writeSizeFields(file: ImageFile, h: Qcow2Header): Promise<void> {
  const buf = new Uint8Array(24);
  writeU64(buf, 0, h.size);
  writeU32(buf, 8, h.cryptMethod);
  writeU32(buf, 12, h.l1Size);
  writeU64(buf, 16, h.l1TableOffset);
  await file.write(buf, SIZE_FIELDS_OFFSET);
}

export async function writeIncompatible(file: ImageFile, h: Qcow2Header): Promise<void> {
  const buf = new Uint8Array(8);
  writeU64(buf, 0, h.incompatibleFeatures);
  await file.write(buf, INCOMPAT_FIELD_OFFSET);
}

export async function writeSnapshotFields(file: ImageFile, h: Qcow2Header): Promise<void> {
  const buf = new Uint8Array(12);
  writeU32(buf, 0, h.nbSnapshots);
  writeU64(buf, 4, h.snapshotsOffset);
  await file.write(buf, SNAPSHOT_FIELDS_OFFSET);
}
