// Plans a new, empty image: the first cluster (header, extensions, backing file name), then the
// refcount table, the refcount blocks and the L1 table, each counted so the blocks cover every metadata
// cluster including themselves. Returns bytes to write; the image layer only writes them.
import { imageError } from '../errors.js';
import { type HeaderExtension, encodeExtensions } from './extensions.js';
import { INCOMPAT_EXTENDED_L2, KNOWN_FEATURES } from './features.js';
import { geometryOf, l1EntriesFor, type Geometry } from './geometry.js';
import {
  MAX_BACKING_NAME,
  MAX_CLUSTER_BITS,
  MAX_L1_BYTES,
  MIN_CLUSTER_BITS,
  type Qcow2Header,
  V3_HEADER_LENGTH_WITH_COMPRESSION,
  encodeHeader,
} from './header.js';
import { writeRefcount, writeReftableEntry } from './refcount.js';

export interface NewImageSpec {
  size: number;
  clusterBits: number;
  version: 2 | 3;
  refcountOrder: number;
  backingFile?: string;
  backingFormat?: string;
  /** Sets the lazy refcounts compatible feature (version 3 only). */
  lazyRefcounts?: boolean;
  /** Extended L2 entries: 32 subclusters per cluster (version 3, clusters of 16 KiB or more). */
  extendedL2?: boolean;
}

export interface NewImagePlan {
  header: Qcow2Header;
  geometry: Geometry;
  /** Each region starts at a cluster boundary; together they make the whole new file. */
  regions: { offset: number; bytes: Uint8Array }[];
  fileSize: number;
}

export function planNewImage(spec: NewImageSpec, path: string): NewImagePlan {
  checkSpec(spec, path);
  const header: Qcow2Header = {
    version: spec.version,
    backingFileOffset: 0,
    backingFileSize: 0,
    clusterBits: spec.clusterBits,
    size: spec.size,
    cryptMethod: 0,
    l1Size: 0,
    l1TableOffset: 0,
    refcountTableOffset: 0,
    refcountTableClusters: 0,
    nbSnapshots: 0,
    snapshotsOffset: 0,
    incompatibleFeatures: spec.extendedL2 ? 1n << BigInt(INCOMPAT_EXTENDED_L2) : 0n,
    compatibleFeatures: spec.lazyRefcounts ? 1n : 0n,
    autoclearFeatures: 0n,
    refcountOrder: spec.refcountOrder,
    headerLength: spec.version === 3 ? V3_HEADER_LENGTH_WITH_COMPRESSION : 72,
    compressionType: 0,
    extraFields: new Uint8Array(0),
  };
  const g = geometryOf(header);
  header.l1Size = Math.max(1, l1EntriesFor(g, spec.size));
  if (header.l1Size * 8 > MAX_L1_BYTES) {
    throw imageError('EIMG_BAD_OPTION', path, `a ${spec.size}-byte disk needs an L1 table above qemu's 32 MiB limit; use larger clusters`);
  }
  const l1Clusters = Math.ceil((header.l1Size * 8) / g.clusterSize);
  // Fixpoint: the refcount blocks must cover the header, the table, the L1 table and themselves.
  let tableClusters = 1;
  let blocks = 1;
  for (;;) {
    const total = 1 + tableClusters + blocks + l1Clusters;
    const needBlocks = Math.ceil(total / g.refcountBlockEntries);
    const needTable = Math.ceil(needBlocks / g.reftableEntriesPerCluster);
    if (needBlocks === blocks && needTable === tableClusters) break;
    blocks = needBlocks;
    tableClusters = needTable;
  }
  const cs = g.clusterSize;
  header.refcountTableOffset = cs;
  header.refcountTableClusters = tableClusters;
  const blocksOffset = cs * (1 + tableClusters);
  header.l1TableOffset = blocksOffset + blocks * cs;
  const totalClusters = 1 + tableClusters + blocks + l1Clusters;

  const first = encodeFirstCluster(header, newImageExtensions(spec), spec.backingFile, cs, path);

  const table = new Uint8Array(tableClusters * cs);
  const blockBytes = new Uint8Array(blocks * cs);
  for (let b = 0; b < blocks; b++) writeReftableEntry(table, b, blocksOffset + b * cs);
  for (let c = 0; c < totalClusters; c++) writeRefcount(blockBytes, c, g.refcountOrder, 1);
  return {
    header,
    geometry: g,
    regions: [
      { offset: 0, bytes: first },
      { offset: cs, bytes: table },
      { offset: blocksOffset, bytes: blockBytes },
      { offset: header.l1TableOffset, bytes: new Uint8Array(l1Clusters * cs) },
    ],
    fileSize: totalClusters * cs,
  };
}

/** The header extensions a new image gets: its backing format, and (v3) the feature name table, as qemu writes. */
export function newImageExtensions(spec: Pick<NewImageSpec, 'backingFormat' | 'version'>): HeaderExtension[] {
  const extensions: HeaderExtension[] = [];
  if (spec.backingFormat !== undefined) extensions.push({ kind: 'backingFormat', format: spec.backingFormat });
  if (spec.version === 3) extensions.push({ kind: 'featureNames', features: [...KNOWN_FEATURES] });
  return extensions;
}

/**
 * Encodes cluster 0: header, extensions, then the backing file name right after the extension area (as
 * qemu does). Sets backing_file_offset/size in `header`. Throws when it does not fit one cluster.
 */
export function encodeFirstCluster(
  header: Qcow2Header,
  extensions: readonly HeaderExtension[],
  backingFile: string | undefined,
  clusterSize: number,
  path: string,
): Uint8Array {
  const ext = encodeExtensions(extensions);
  const headerLength = header.version === 2 ? 72 : header.headerLength;
  const name = backingFile === undefined ? new Uint8Array(0) : Buffer.from(backingFile, 'utf8');
  header.backingFileOffset = backingFile === undefined ? 0 : headerLength + ext.length;
  header.backingFileSize = name.length;
  if (headerLength + ext.length + name.length > clusterSize) {
    throw imageError('EIMG_BAD_OPTION', path, `header, extensions and backing file name do not fit one ${clusterSize}-byte cluster`);
  }
  const out = new Uint8Array(clusterSize);
  out.set(encodeHeader(header), 0);
  out.set(ext, headerLength);
  out.set(name, header.backingFileOffset);
  return out;
}

function checkSpec(spec: NewImageSpec, path: string): void {
  const bad = (problem: string): never => {
    throw imageError('EIMG_BAD_OPTION', path, problem);
  };
  if (!Number.isSafeInteger(spec.size) || spec.size < 0) bad(`size ${spec.size} is not a non-negative integer`);
  if (spec.clusterBits < MIN_CLUSTER_BITS || spec.clusterBits > MAX_CLUSTER_BITS || !Number.isInteger(spec.clusterBits)) {
    bad(`cluster size ${2 ** spec.clusterBits} is not a power of two from 512 to 2 MiB`);
  }
  if (spec.version !== 2 && spec.version !== 3) bad(`version ${spec.version} is not 2 or 3`);
  if (!Number.isInteger(spec.refcountOrder) || spec.refcountOrder < 0 || spec.refcountOrder > 6) {
    bad(`refcount width ${2 ** spec.refcountOrder} bits is not a power of two from 1 to 64`);
  }
  if (spec.version === 2 && spec.refcountOrder !== 4) bad('version 2 images have 16-bit refcounts only');
  if (spec.version === 2 && spec.lazyRefcounts) bad('lazy refcounts need a version 3 image (compat=1.1)');
  if (spec.extendedL2 && spec.version === 2) bad('extended L2 entries need a version 3 image (compat=1.1)');
  if (spec.extendedL2 && spec.clusterBits < 14) bad(`extended L2 entries need clusters of 16 KiB or more, not ${2 ** spec.clusterBits}`);
  if (spec.backingFile !== undefined && Buffer.byteLength(spec.backingFile) > MAX_BACKING_NAME) {
    bad(`backing file name is longer than ${MAX_BACKING_NAME} bytes`);
  }
}
