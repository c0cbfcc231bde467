// An open qcow2 image: reads the header, extensions and tables, refuses what it cannot handle, and
// serialises reads and writes through the cluster executors. Opening the backing file is delegated to
// the caller (open.ts), which tracks the chain to detect loops.
import { imageError } from '../errors.js';
import { findExtension, parseExtensions } from '../format/extensions.js';
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY, checkReadable, featureName, hasBit, setBits, writeBlocker } from '../format/features.js';
import { geometryOf } from '../format/geometry.js';
import { AUTOCLEAR_FIELD_OFFSET, MAX_CLUSTER_BITS, type Qcow2Header, V2_HEADER_LENGTH, checkHeaderLayout, parseHeader } from '../format/header.js';
import { ClusterReader } from './cluster-reader.js';
import { ClusterWriter } from './cluster-writer.js';
import type { ImageFile } from './file.js';
import { type Image, type Qcow2Info, Serial, checkAccess } from './image.js';
import { L2Tables } from './l2-tables.js';
import { Refcounts } from './refcounts.js';
import type { Qcow2State } from './state.js';

export type BackingOpener = (name: string, format: string | undefined) => Promise<Image>;

export class Qcow2Image implements Image {
  readonly format = 'qcow2';
  private readonly serial = new Serial();
  private readonly reader: ClusterReader;
  private readonly writer: ClusterWriter | undefined;
  private closed = false;

  private constructor(
    private readonly s: Qcow2State,
    readonly readOnly: boolean,
    private readonly backingName: string | undefined,
    private readonly backingFormat: string | undefined,
    private readonly featureNames: string[],
  ) {
    this.reader = new ClusterReader(s);
    const refcounts = s.refcounts;
    this.writer = refcounts === undefined ? undefined : new ClusterWriter({ ...s, refcounts }, this.reader);
  }

  get path(): string {
    return this.s.file.path;
  }

  get size(): number {
    return this.s.size;
  }

  get backing(): Image | undefined {
    return this.s.backing;
  }

  /** Opens the qcow2 image in `file` (which it then owns); closes the file if anything fails. */
  static async open(file: ImageFile, readOnly: boolean, openBacking: BackingOpener): Promise<Qcow2Image> {
    try {
      return await Qcow2Image.load(file, readOnly, openBacking);
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  }

  private static async load(file: ImageFile, readOnly: boolean, openBacking: BackingOpener): Promise<Qcow2Image> {
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
    const table = findExtension(extensions, 'featureNames')?.features ?? [];
    checkReadable(header, table, path);
    checkHeaderLayout(header, file.length, path);
    const blocker = writeBlocker(header);
    if (!readOnly && blocker !== undefined) {
      throw imageError('EQCOW2_NOT_WRITABLE', path, `cannot open read-write: ${blocker}`);
    }
    const backingName =
      header.backingFileOffset === 0
        ? undefined
        : Buffer.from(cluster0.subarray(header.backingFileOffset, header.backingFileOffset + header.backingFileSize)).toString('utf8');
    const backingFormat = findExtension(extensions, 'backingFormat')?.format;
    const tables = await L2Tables.load(file, g, header.l1TableOffset, header.l1Size);
    let refcounts: Refcounts | undefined;
    if (!readOnly) {
      await clearAutoclear(file, header);
      const cs = g.clusterSize;
      const reserved: [number, number][] = [
        [0, 1],
        [header.l1TableOffset / cs, Math.ceil((header.l1TableOffset + header.l1Size * 8) / cs)],
        [header.refcountTableOffset / cs, header.refcountTableOffset / cs + header.refcountTableClusters],
      ];
      refcounts = await Refcounts.load(file, g, header.refcountTableOffset, header.refcountTableClusters, reserved);
    }
    const backing = backingName === undefined ? undefined : await openBacking(backingName, backingFormat);
    const names = (['incompatible', 'compatible', 'autoclear'] as const).flatMap((kind) => {
      const mask = kind === 'incompatible' ? header.incompatibleFeatures : kind === 'compatible' ? header.compatibleFeatures : header.autoclearFeatures;
      return setBits(mask).map((bit) => featureName(kind, bit, table));
    });
    const state: Qcow2State = { file, header, g, size: header.size, tables, refcounts, backing };
    return new Qcow2Image(state, readOnly, backingName, backingFormat, names);
  }

  read(buf: Uint8Array, offset: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      checkAccess(this, 'read', buf, offset);
      await this.reader.read(buf, offset);
    });
  }

  write(buf: Uint8Array, offset: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      checkAccess(this, 'write', buf, offset);
      await this.writer!.write(buf, offset);
    });
  }

  flush(): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      if (!this.readOnly) await this.s.file.sync();
    });
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        if (!this.readOnly) await this.s.file.sync();
        await this.s.file.close();
      } finally {
        await this.s.backing?.close();
      }
    });
  }

  info(): Qcow2Info {
    const h = this.s.header;
    return {
      format: 'qcow2',
      path: this.path,
      virtualSize: h.size,
      version: h.version,
      clusterSize: this.s.g.clusterSize,
      refcountBits: this.s.g.refcountBits,
      extendedL2: this.s.g.extendedL2,
      compressionType: 'zlib',
      backingFile: this.backingName,
      backingFormat: this.backingFormat,
      features: this.featureNames,
      dirty: hasBit(h.incompatibleFeatures, INCOMPAT_DIRTY),
      corrupt: hasBit(h.incompatibleFeatures, INCOMPAT_CORRUPT),
      snapshots: h.nbSnapshots,
      backing: this.s.backing?.info(),
    };
  }

  private checkOpen(): void {
    if (this.closed) throw imageError('EIMG_CLOSED', this.path, 'image is closed');
  }
}

/**
 * Auto-clear bits mark extension data (bitmaps) consistent with the disk. We do not maintain that data,
 * so before the first write we clear them all, as the spec asks of writers that do not know them.
 */
async function clearAutoclear(file: ImageFile, header: Qcow2Header): Promise<void> {
  if (header.version === 2 || header.autoclearFeatures === 0n) return;
  await file.write(new Uint8Array(8), AUTOCLEAR_FIELD_OFFSET);
  await file.sync();
  header.autoclearFeatures = 0n;
}

