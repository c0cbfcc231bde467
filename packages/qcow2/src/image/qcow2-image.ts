// An open qcow2 image: reads the header, extensions and tables, refuses what it cannot handle, and
// serialises reads and writes through the cluster executors. Opening the backing file is delegated to
// the caller (open.ts), which tracks the chain to detect loops.
import { imageError } from '../errors.js';
import type { FeatureName } from '../format/extensions.js';
import type { Snapshot } from '../format/snapshot.js';
import { COMPAT_LAZY_REFCOUNTS, INCOMPAT_CORRUPT, INCOMPAT_DIRTY, featureName, hasBit, setBits, writeBlocker } from '../format/features.js';
import { AUTOCLEAR_FIELD_OFFSET, type Qcow2Header } from '../format/header.js';
import { checkFile } from './check.js';
import { ClusterReader } from './cluster-reader.js';
import { ClusterWriter } from './cluster-writer.js';
import type { ImageFile } from './file.js';
import { type Extent, type Image, type Qcow2Info, Gate, checkAccess } from './image.js';
import { L2Tables } from './l2-tables.js';
import { readMetadata, readSnapshots } from './metadata.js';
import { Refcounts } from './refcounts.js';
import { resizeQcow2 } from './resize.js';
import { applySnapshot, createSnapshot, deleteSnapshot } from './snapshots.js';
import type { Qcow2State } from './state.js';

export type BackingOpener = (name: string, format: string | undefined) => Promise<Image>;
/** Opens the external data file an image names (read-only), resolved as the caller resolves backing files. */
export type DataFileOpener = (name: string) => Promise<ImageFile>;

export class Qcow2Image implements Image {
  readonly format = 'qcow2';
  private readonly serial = new Gate();
  private readonly reader: ClusterReader;
  private readonly writer: ClusterWriter | undefined;
  private closed = false;
  /** Writes waiting for the writer, taken as one batch (group commit). */
  private readonly queued: { buf: Uint8Array; offset: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Set when the image was asked for read-write but opened read-only (the corrupt bit). */
  private readOnlyReason: string | undefined;
  private dataFileName: string | undefined;
  private dataFileRaw = false;

  private constructor(
    private readonly s: Qcow2State,
    readonly readOnly: boolean,
    private readonly backingName: string | undefined,
    private readonly backingFormat: string | undefined,
    private readonly featureTable: FeatureName[],
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

  /** The header as it is now (after resizes); for tools that need more than info(). */
  get header(): Readonly<Qcow2Header> {
    return this.s.header;
  }

  get backing(): Image | undefined {
    return this.s.backing;
  }

  /** Opens the qcow2 image in `file` (which it then owns); closes the file if anything fails. */
  static async open(file: ImageFile, readOnly: boolean, openBacking: BackingOpener, openDataFile?: DataFileOpener): Promise<Qcow2Image> {
    try {
      return await Qcow2Image.load(file, readOnly, openBacking, openDataFile);
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  }

  private static async load(file: ImageFile, wantReadOnly: boolean, openBacking: BackingOpener, openDataFile?: DataFileOpener): Promise<Qcow2Image> {
    const path = file.path;
    const meta = await readMetadata(file);
    const { header, g } = meta;
    // A corrupt image is opened read-only, as the spec asks: a write could spread the damage.
    const corrupt = hasBit(header.incompatibleFeatures, INCOMPAT_CORRUPT);
    const readOnly = wantReadOnly || corrupt;
    const blocker = writeBlocker(header);
    if (!readOnly && blocker !== undefined) {
      throw imageError('EQCOW2_NOT_WRITABLE', path, `cannot open read-write: ${blocker}`);
    }
    if (!readOnly && hasBit(header.incompatibleFeatures, INCOMPAT_DIRTY)) {
      // Left dirty by a crash with lazy refcounts: rebuild refcounts before any allocation trusts them.
      const result = await checkFile(file, meta, 'all');
      if (result.corruptions > 0) {
        throw imageError('EQCOW2_NOT_WRITABLE', path, `is marked dirty and repairing it left ${result.corruptions} corruption(s): ${result.messages[0] ?? ''}`);
      }
    }
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
    const dataFile = await Qcow2Image.openDataFile(meta, openDataFile);
    let backing: Image | undefined;
    let snapshots: Snapshot[];
    try {
      backing = meta.backingName === undefined ? undefined : await openBacking(meta.backingName, meta.backingFormat);
      snapshots = (await readSnapshots(file, header, g)).list;
    } catch (error) {
      await dataFile?.close().catch(() => undefined);
      await backing?.close().catch(() => undefined);
      throw error;
    }
    const state: Qcow2State = { file, header, g, size: header.size, tables, refcounts, backing, dataFile, lazy: false, snapshots };
    state.lazy = !readOnly && hasBit(header.compatibleFeatures, COMPAT_LAZY_REFCOUNTS);
    const image = new Qcow2Image(state, readOnly, meta.backingName, meta.backingFormat, meta.featureTable);
    image.readOnlyReason = corrupt && !wantReadOnly ? 'it is marked corrupt (repair it with check -r all)' : undefined;
    image.dataFileName = meta.dataFileName;
    image.dataFileRaw = meta.dataFileRaw;
    return image;
  }

  private static async openDataFile(meta: { dataFileName: string | undefined }, open: DataFileOpener | undefined): Promise<ImageFile | undefined> {
    if (meta.dataFileName === undefined) return undefined;
    if (open === undefined) throw new Error('internal: an image with an external data file was opened without a data file opener');
    return open(meta.dataFileName);
  }

  read(buf: Uint8Array, offset: number): Promise<void> {
    return this.counted(() =>
      this.serial.shared(async () => {
        this.checkOpen();
        checkAccess(this, 'read', buf, offset);
        await this.reader.read(buf, offset);
      }),
    );
  }

  /** Counts a guest request as in flight on the files it may touch, for their choice of inline I/O. */
  private async counted<T>(op: () => Promise<T>): Promise<T> {
    const { file, dataFile } = this.s;
    file.active++;
    if (dataFile !== undefined) dataFile.active++;
    try {
      return await op();
    } finally {
      file.active--;
      if (dataFile !== undefined) dataFile.active--;
    }
  }

  status(offset: number, length: number): Promise<Extent[]> {
    return this.serial.shared(async () => {
      this.checkOpen();
      checkAccess(this, 'read', new Uint8Array(0), offset, length);
      return this.reader.status(offset, length);
    });
  }

  /** Makes whole clusters unallocated even over a backing file (qemu's full discard; used by commit). */
  deallocate(offset: number, length: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkWritable(new Uint8Array(0), offset, length);
      await this.writer!.zero(offset, length, 'unmap');
    });
  }

  write(buf: Uint8Array, offset: number): Promise<void> {
    return this.counted(() => this.writeCounted(buf, offset));
  }

  private async writeCounted(buf: Uint8Array, offset: number): Promise<void> {
    // Overwrites of allocated clusters change no metadata: they run alongside reads and each other.
    const done = await this.serial.shared(async () => {
      this.checkWritable(buf, offset);
      return this.writer!.tryWriteInPlace(buf, offset);
    });
    if (done) return;
    // Allocating writes queue up; the first one to get the image takes every write queued by then.
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ buf, offset, resolve, reject });
      if (this.queued.length > 1) return;
      void this.serial.run(async () => {
        const batch = this.queued.splice(0);
        try {
          for (const item of batch) this.checkWritable(item.buf, item.offset);
          await this.writer!.writeBatch(batch);
          for (const item of batch) item.resolve();
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      });
    });
  }

  /** A buffer this image transfers without copying (aligned when opened direct). */
  allocBuffer(size: number): Promise<Buffer> {
    return this.s.file.allocBuffer(size);
  }

  /** The internal snapshots, oldest first. */
  get snapshots(): readonly Snapshot[] {
    return this.s.snapshots;
  }

  /** Takes an internal snapshot of the disk as it is now. */
  createSnapshot(name: string): Promise<Snapshot> {
    return this.serial.run(async () => {
      this.checkWritable(new Uint8Array(0), 0);
      await this.writer!.settle();
      return createSnapshot(this.writable(), name);
    });
  }

  /** Makes the disk what it was when the snapshot (by id or name) was taken. */
  applySnapshot(nameOrId: string): Promise<void> {
    return this.serial.run(async () => {
      this.checkWritable(new Uint8Array(0), 0);
      await this.writer!.settle();
      await applySnapshot(this.writable(), nameOrId);
      this.reader.invalidate();
    });
  }

  deleteSnapshot(nameOrId: string): Promise<void> {
    return this.serial.run(async () => {
      this.checkWritable(new Uint8Array(0), 0);
      await this.writer!.settle();
      await deleteSnapshot(this.writable(), nameOrId);
    });
  }

  private writable(): Qcow2State & { refcounts: Refcounts } {
    return this.s as Qcow2State & { refcounts: Refcounts };
  }

  writeZeroes(offset: number, length: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkWritable(new Uint8Array(0), offset, length);
      await this.writer!.zero(offset, length, 'zero');
    });
  }

  discard(offset: number, length: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkWritable(new Uint8Array(0), offset, length);
      await this.writer!.zero(offset, length, 'discard');
    });
  }

  resize(size: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      if (this.readOnly) throw imageError('EIMG_READ_ONLY', this.path, `cannot resize: ${this.readOnlyReason ?? 'image is open read-only'}`);
      await this.writer!.settle();
      await resizeQcow2(this.s, this.writer!, size);
    });
  }

  flush(): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      if (!this.readOnly) await this.writer!.flush();
    });
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        if (!this.readOnly) await this.writer!.close();
        await this.s.file.close();
      } finally {
        await this.s.dataFile?.close().catch(() => undefined);
        await this.s.backing?.close();
      }
    });
  }

  info(): Qcow2Info {
    const h = this.s.header;
    return {
      format: 'qcow2',
      path: this.path,
      virtualSize: this.s.size,
      version: h.version,
      clusterSize: this.s.g.clusterSize,
      refcountBits: this.s.g.refcountBits,
      extendedL2: this.s.g.extendedL2,
      compressionType: h.compressionType === 1 ? 'zstd' : 'zlib',
      backingFile: this.backingName,
      backingFormat: this.backingFormat,
      dataFile: this.dataFileName,
      dataFileRaw: this.dataFileRaw,
      features: featureNames(h, this.featureTable),
      lazyRefcounts: hasBit(h.compatibleFeatures, COMPAT_LAZY_REFCOUNTS),
      dirty: hasBit(h.incompatibleFeatures, INCOMPAT_DIRTY),
      corrupt: hasBit(h.incompatibleFeatures, INCOMPAT_CORRUPT),
      snapshots: this.s.snapshots.map((snap) => ({ ...snap })),
      backing: this.s.backing?.info(),
    };
  }

  private checkWritable(buf: Uint8Array, offset: number, length = buf.length): void {
    this.checkOpen();
    if (this.readOnly && this.readOnlyReason !== undefined) {
      throw imageError('EIMG_READ_ONLY', this.path, `image is open read-only: ${this.readOnlyReason}`);
    }
    checkAccess(this, 'write', buf.length === length ? buf : new Uint8Array(0), offset, length);
  }

  private checkOpen(): void {
    if (this.closed) throw imageError('EIMG_CLOSED', this.path, 'image is closed');
  }
}

function featureNames(h: Qcow2Header, table: readonly FeatureName[]): string[] {
  return (['incompatible', 'compatible', 'autoclear'] as const).flatMap((kind) => {
    const mask = kind === 'incompatible' ? h.incompatibleFeatures : kind === 'compatible' ? h.compatibleFeatures : h.autoclearFeatures;
    return setBits(mask).map((bit) => featureName(kind, bit, table));
  });
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

