// The qcow2 header (docs/interop/qcow2.txt, "Header"): the fixed fields of versions 2 and 3 and the
// additional v3 fields, parsed and encoded without touching a file. Checks that need only the header
// live in parseHeader; checks against the file's size live in checkHeaderLayout, so both stay pure.
import { hex, imageError } from '../errors.js';
import { readU32, readU64, readU64Number, writeU32, writeU64 } from './endian.js';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const V2_HEADER_LENGTH = 72;
export const V3_HEADER_LENGTH = 104;
/** Header length when the v3 compression_type field (and its padding) is present, as qemu writes it. */
export const V3_HEADER_LENGTH_WITH_COMPRESSION = 112;
export const MIN_CLUSTER_BITS = 9;
/** qemu refuses larger clusters; so do we, so every image we accept is one qemu can open. */
export const MAX_CLUSTER_BITS = 21;
/** qemu's limits on table sizes (QCOW_MAX_L1_SIZE, QCOW_MAX_REFTABLE_SIZE): bigger is a corrupt or hostile file. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_BACKING_NAME = 1023;

export const CRYPT_NONE = 0;
export const CRYPT_AES = 1;
export const CRYPT_LUKS = 2;

export const COMPRESSION_ZLIB = 0;
export const COMPRESSION_ZSTD = 1;

export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  /** Virtual disk size in bytes. */
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  /** refcount_bits = 1 << refcountOrder; always 4 for v2. */
  refcountOrder: number;
  /** 72 for v2; at least 104 and a multiple of 8 for v3. */
  headerLength: number;
  /** 0 (zlib) when the field is absent. */
  compressionType: number;
  /**
   * v3 header bytes past compression_type (fields from a newer qemu), kept verbatim so that rewriting
   * the header preserves them, as the spec requires.
   */
  extraFields: Uint8Array;
}

/** Parses the header at the start of buf (which must hold at least the header's first cluster or 4 KiB). */
export function parseHeader(buf: Uint8Array, path: string): Qcow2Header {
  if (buf.length < V2_HEADER_LENGTH) {
    throw imageError('EQCOW2_BAD_HEADER', path, `file is ${buf.length} bytes, shorter than a qcow2 header`);
  }
  const magic = readU32(buf, 0);
  if (magic !== QCOW2_MAGIC) throw imageError('EQCOW2_BAD_MAGIC', path, `not a qcow2 image (magic ${hex(magic)})`);
  const version = readU32(buf, 4);
  if (version !== 2 && version !== 3) {
    throw imageError('EQCOW2_BAD_VERSION', path, `unsupported qcow2 version ${version} (2 and 3 are)`, { version });
  }
  const number = (offset: number, field: string): number => {
    const value = readU64Number(buf, offset);
    if (value === undefined) {
      throw imageError('EQCOW2_BAD_HEADER', path, `header field ${field} is ${hex(readU64(buf, offset))}, beyond 2^53`, { field });
    }
    return value;
  };
  const header: Qcow2Header = {
    version,
    backingFileOffset: number(8, 'backing_file_offset'),
    backingFileSize: readU32(buf, 16),
    clusterBits: readU32(buf, 20),
    size: number(24, 'size'),
    cryptMethod: readU32(buf, 32),
    l1Size: readU32(buf, 36),
    l1TableOffset: number(40, 'l1_table_offset'),
    refcountTableOffset: number(48, 'refcount_table_offset'),
    refcountTableClusters: readU32(buf, 56),
    nbSnapshots: readU32(buf, 60),
    snapshotsOffset: number(64, 'snapshots_offset'),
    incompatibleFeatures: 0n,
    compatibleFeatures: 0n,
    autoclearFeatures: 0n,
    refcountOrder: 4,
    headerLength: V2_HEADER_LENGTH,
    compressionType: COMPRESSION_ZLIB,
    extraFields: new Uint8Array(0),
  };
  if (version === 3) parseV3Fields(buf, header, path);
  checkHeaderFields(header, path);
  return header;
}

function parseV3Fields(buf: Uint8Array, header: Qcow2Header, path: string): void {
  if (buf.length < V3_HEADER_LENGTH) {
    throw imageError('EQCOW2_BAD_HEADER', path, `file is ${buf.length} bytes, shorter than a version 3 header`);
  }
  header.incompatibleFeatures = readU64(buf, 72);
  header.compatibleFeatures = readU64(buf, 80);
  header.autoclearFeatures = readU64(buf, 88);
  header.refcountOrder = readU32(buf, 96);
  header.headerLength = readU32(buf, 100);
  const length = header.headerLength;
  if (length < V3_HEADER_LENGTH || length % 8 !== 0) {
    throw imageError('EQCOW2_BAD_HEADER', path, `header_length ${length} is not a multiple of 8 of at least ${V3_HEADER_LENGTH}`);
  }
  // The header must fit its first cluster; cluster_bits is checked later, so bound by the largest cluster.
  if (length > 1 << MAX_CLUSTER_BITS || length > buf.length) {
    throw imageError('EQCOW2_BAD_HEADER', path, `header_length ${length} runs past the first cluster`);
  }
  if (length > V3_HEADER_LENGTH) header.compressionType = buf[V3_HEADER_LENGTH];
  if (length > V3_HEADER_LENGTH_WITH_COMPRESSION) {
    header.extraFields = new Uint8Array(buf.subarray(V3_HEADER_LENGTH_WITH_COMPRESSION, length));
  }
}

function checkHeaderFields(h: Qcow2Header, path: string): void {
  if (h.clusterBits < MIN_CLUSTER_BITS || h.clusterBits > MAX_CLUSTER_BITS) {
    throw imageError('EQCOW2_BAD_HEADER', path, `cluster_bits ${h.clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`, {
      field: 'cluster_bits',
    });
  }
  const clusterSize = 2 ** h.clusterBits;
  if (h.headerLength > clusterSize) {
    throw imageError('EQCOW2_BAD_HEADER', path, `header_length ${h.headerLength} is larger than a ${clusterSize}-byte cluster`);
  }
  if (h.refcountOrder > 6) {
    throw imageError('EQCOW2_BAD_HEADER', path, `refcount_order ${h.refcountOrder} is above 6 (64-bit refcounts)`, {
      field: 'refcount_order',
    });
  }
  const aligned = (field: string, offset: number): void => {
    if (offset % clusterSize !== 0) {
      throw imageError('EQCOW2_BAD_OFFSET', path, `${field} ${hex(offset)} is not aligned to the ${clusterSize}-byte cluster size`, {
        field,
        offset,
      });
    }
  };
  aligned('l1_table_offset', h.l1TableOffset);
  aligned('refcount_table_offset', h.refcountTableOffset);
  if (h.nbSnapshots > 0) aligned('snapshots_offset', h.snapshotsOffset);
  if (h.backingFileOffset !== 0) {
    if (h.backingFileSize > MAX_BACKING_NAME) {
      throw imageError('EQCOW2_BAD_HEADER', path, `backing file name is ${h.backingFileSize} bytes, above ${MAX_BACKING_NAME}`);
    }
    if (h.backingFileOffset + h.backingFileSize > clusterSize) {
      throw imageError('EQCOW2_BAD_OFFSET', path, `backing file name at ${hex(h.backingFileOffset)} runs past the first cluster`, {
        field: 'backing_file_offset',
      });
    }
  }
}

/** Checks the header's tables against the file: inside it, within qemu's limits, large enough for `size`. */
export function checkHeaderLayout(h: Qcow2Header, fileSize: number, path: string): void {
  const clusterSize = 2 ** h.clusterBits;
  const l1Bytes = h.l1Size * 8;
  if (l1Bytes > MAX_L1_BYTES) {
    throw imageError('EQCOW2_TABLE_TOO_LARGE', path, `l1_size ${h.l1Size} is above qemu's limit of ${MAX_L1_BYTES / 8} entries`, {
      field: 'l1_size',
    });
  }
  const l2Entries = clusterSize / (isExtendedL2(h) ? 16 : 8);
  const needed = Math.ceil(h.size / clusterSize / l2Entries);
  if (h.l1Size < needed) {
    throw imageError('EQCOW2_L1_TOO_SMALL', path, `l1_size ${h.l1Size} cannot map a ${h.size}-byte disk (needs ${needed})`);
  }
  within(path, 'l1_table_offset', h.l1TableOffset, l1Bytes, fileSize);
  const reftableBytes = h.refcountTableClusters * clusterSize;
  if (h.refcountTableClusters === 0 || reftableBytes > MAX_REFTABLE_BYTES) {
    throw imageError('EQCOW2_TABLE_TOO_LARGE', path, `refcount_table_clusters ${h.refcountTableClusters} is 0 or above qemu's limit`, {
      field: 'refcount_table_clusters',
    });
  }
  within(path, 'refcount_table_offset', h.refcountTableOffset, reftableBytes, fileSize);
  if (h.nbSnapshots > 0) within(path, 'snapshots_offset', h.snapshotsOffset, 0, fileSize);
}

function within(path: string, field: string, offset: number, length: number, fileSize: number): void {
  if (offset === 0 || offset + length > fileSize) {
    throw imageError('EQCOW2_BAD_OFFSET', path, `${field} ${hex(offset)} (+${length} bytes) is outside the ${fileSize}-byte file`, {
      field,
      offset,
      length,
      fileSize,
    });
  }
}

export function isExtendedL2(h: Pick<Qcow2Header, 'incompatibleFeatures'>): boolean {
  return (h.incompatibleFeatures & (1n << 4n)) !== 0n;
}

/** Encodes the header in headerLength bytes (72 for v2), ready to be followed by the extensions. */
export function encodeHeader(h: Qcow2Header): Uint8Array {
  const buf = new Uint8Array(h.version === 2 ? V2_HEADER_LENGTH : h.headerLength);
  writeU32(buf, 0, QCOW2_MAGIC);
  writeU32(buf, 4, h.version);
  writeU64(buf, 8, h.backingFileOffset);
  writeU32(buf, 16, h.backingFileSize);
  writeU32(buf, 20, h.clusterBits);
  writeU64(buf, 24, h.size);
  writeU32(buf, 32, h.cryptMethod);
  writeU32(buf, 36, h.l1Size);
  writeU64(buf, 40, h.l1TableOffset);
  writeU64(buf, 48, h.refcountTableOffset);
  writeU32(buf, 56, h.refcountTableClusters);
  writeU32(buf, 60, h.nbSnapshots);
  writeU64(buf, 64, h.snapshotsOffset);
  if (h.version === 3) {
    writeU64(buf, 72, h.incompatibleFeatures);
    writeU64(buf, 80, h.compatibleFeatures);
    writeU64(buf, 88, h.autoclearFeatures);
    writeU32(buf, 96, h.refcountOrder);
    writeU32(buf, 100, h.headerLength);
    if (h.headerLength > V3_HEADER_LENGTH) buf[V3_HEADER_LENGTH] = h.compressionType;
    if (h.headerLength > V3_HEADER_LENGTH_WITH_COMPRESSION) buf.set(h.extraFields, V3_HEADER_LENGTH_WITH_COMPRESSION);
  }
  return buf;
}

/** Byte offset of refcount_table_offset: it and refcount_table_clusters are rewritten together when the table moves. */
export const REFTABLE_FIELDS_OFFSET = 48;
export const AUTOCLEAR_FIELD_OFFSET = 88;
