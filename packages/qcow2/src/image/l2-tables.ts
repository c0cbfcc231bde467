// The L1 table (held in memory whole, as qemu does) and an LRU cache of L2 tables. Writers change
// entries in memory; writeBackL2() and writeBackL1() write the dirty spans, and the caller orders them
// with fsync so an L1 entry never reaches the disk before the L2 table it points at.
import { hex, imageError } from '../errors.js';
import type { Geometry } from '../format/geometry.js';
import { readL1Entry, writeL1Entry } from '../format/l1-entry.js';
import type { ImageFile } from './file.js';
import type { Refcounts } from './refcounts.js';

interface CachedTable {
  offset: number;
  bytes: Uint8Array;
  dirtyStart: number;
  dirtyEnd: number;
}

/** Tables kept in the cache: 8 MiB worth, and at least 8. */
const CACHE_BYTES = 8 * 1024 * 1024;

export class L2Tables {
  private readonly cache = new Map<number, CachedTable>();
  private readonly capacity: number;
  private l1DirtyStart = 0;
  /** Shared L2 tables replaced by copies: their reference goes once the new L1 entries are on disk. */
  private releases: number[] = [];
  private l1DirtyEnd = 0;

  constructor(
    private readonly file: ImageFile,
    private readonly g: Geometry,
    private l1Offset: number,
    private l1: Uint8Array,
  ) {
    this.capacity = Math.max(8, Math.floor(CACHE_BYTES / g.clusterSize));
  }

  static async load(file: ImageFile, g: Geometry, l1Offset: number, l1Size: number): Promise<L2Tables> {
    const l1 = new Uint8Array(l1Size * 8);
    await file.read(l1, l1Offset);
    return new L2Tables(file, g, l1Offset, l1);
  }

  get l1Size(): number {
    return this.l1.length / 8;
  }

  /** The L1 table as it is in memory (clean: every write ends with writeBackL1). */
  l1Bytes(): Uint8Array {
    return this.l1;
  }

  /** Switches to a moved, larger L1 table that the header already points at. */
  replaceL1(offset: number, l1: Uint8Array): void {
    if (this.l1Dirty) throw new Error('internal: L1 table replaced with unwritten changes');
    this.l1Offset = offset;
    this.l1 = l1;
  }

  /** The L2 table for l1Index, or undefined when it is not allocated (reads see unallocated clusters). */
  async table(l1Index: number): Promise<Uint8Array | undefined> {
    return (await this.cached(l1Index))?.bytes;
  }

  /** The L2 table for l1Index if it is in the cache, without loading it or touching the LRU order. */
  peek(l1Index: number): Uint8Array | undefined {
    return this.cache.get(l1Index)?.bytes;
  }

  /**
   * The L2 table for l1Index, ready to be changed: allocated (zeroed) if missing. A table shared with
   * a snapshot (refcount above one) is copied to a new cluster first; the old one's reference is
   * dropped only after the L1 entry pointing at the copy is on disk (takeReleases()).
   */
  async writableTable(l1Index: number, refcounts: Refcounts): Promise<Uint8Array> {
    const existing = await this.cached(l1Index);
    if (existing !== undefined) {
      const entry = readL1Entry(this.l1, l1Index, this.g.clusterSize, this.file.path);
      if (!entry.copied) {
        const refcount = await refcounts.get(entry.l2Offset / this.g.clusterSize);
        if (refcount === 1) {
          this.setL1(l1Index, entry.l2Offset);
        } else {
          const offset = await refcounts.allocate(1);
          existing.offset = offset;
          existing.dirtyStart = 0;
          existing.dirtyEnd = this.g.clusterSize;
          this.setL1(l1Index, offset);
          this.releases.push(entry.l2Offset);
        }
      }
      return existing.bytes;
    }
    const offset = await refcounts.allocate(1);
    const table: CachedTable = { offset, bytes: new Uint8Array(this.g.clusterSize), dirtyStart: 0, dirtyEnd: this.g.clusterSize };
    this.cache.set(l1Index, table);
    this.setL1(l1Index, offset);
    return table.bytes;
  }

  /** The old offsets of tables copied on write, to release after writeBackL1 (and a sync). */
  takeReleases(): number[] {
    const out = this.releases;
    this.releases = [];
    return out;
  }

  /** Forgets every cached table (clean ones only exist between operations): a snapshot operation rewrote them. */
  dropCache(): void {
    for (const [index, table] of this.cache) if (table.dirtyEnd === table.dirtyStart) this.cache.delete(index);
  }

  /** Records that entry l2Index of table l1Index changed in memory. */
  markDirty(l1Index: number, l2Index: number): void {
    const table = this.cache.get(l1Index);
    if (table === undefined) throw new Error(`internal: L2 table ${l1Index} changed but is not cached`);
    const start = l2Index * this.g.l2EntrySize;
    const end = start + this.g.l2EntrySize;
    if (table.dirtyEnd === table.dirtyStart) [table.dirtyStart, table.dirtyEnd] = [start, end];
    else [table.dirtyStart, table.dirtyEnd] = [Math.min(table.dirtyStart, start), Math.max(table.dirtyEnd, end)];
  }

  get l1Dirty(): boolean {
    return this.l1DirtyEnd > this.l1DirtyStart;
  }

  async writeBackL2(): Promise<void> {
    for (const table of this.cache.values()) {
      if (table.dirtyEnd > table.dirtyStart) {
        // The cached table is the whole truth: write whole 4 KiB pieces of it, so that O_DIRECT needs
        // no read-modify-write of the block around a changed entry.
        const [start, end] = blockSpan(table.dirtyStart, table.dirtyEnd, table.bytes.length);
        await this.file.writeMetadata(table.bytes.subarray(start, end), table.offset + start);
        table.dirtyStart = table.dirtyEnd = 0;
      }
    }
    this.evict();
  }

  async writeBackL1(): Promise<void> {
    if (!this.l1Dirty) return;
    await this.file.writeMetadata(this.l1.subarray(this.l1DirtyStart, this.l1DirtyEnd), this.l1Offset + this.l1DirtyStart);
    this.l1DirtyStart = this.l1DirtyEnd = 0;
  }

  private setL1(l1Index: number, l2Offset: number): void {
    writeL1Entry(this.l1, l1Index, { l2Offset, copied: true });
    const start = l1Index * 8;
    if (!this.l1Dirty) [this.l1DirtyStart, this.l1DirtyEnd] = [start, start + 8];
    else [this.l1DirtyStart, this.l1DirtyEnd] = [Math.min(this.l1DirtyStart, start), Math.max(this.l1DirtyEnd, start + 8)];
  }

  private async cached(l1Index: number): Promise<CachedTable | undefined> {
    const hit = this.cache.get(l1Index);
    if (hit !== undefined) {
      this.cache.delete(l1Index); // re-insert: Map order is the LRU order
      this.cache.set(l1Index, hit);
      return hit;
    }
    if (l1Index >= this.l1Size) return undefined;
    const { l2Offset } = readL1Entry(this.l1, l1Index, this.g.clusterSize, this.file.path);
    if (l2Offset === 0) return undefined;
    if (l2Offset + this.g.clusterSize > this.file.length) {
      throw imageError('EQCOW2_BAD_L1_ENTRY', this.file.path, `L1 entry ${l1Index} points at ${hex(l2Offset)}, past the end of the file`, {
        index: l1Index,
        offset: l2Offset,
      });
    }
    const bytes = new Uint8Array(this.g.clusterSize);
    await this.file.read(bytes, l2Offset);
    const table: CachedTable = { offset: l2Offset, bytes, dirtyStart: 0, dirtyEnd: 0 };
    this.cache.set(l1Index, table);
    this.evict();
    return table;
  }

  /** Drops least recently used clean tables beyond capacity; dirty ones wait for their write-back. */
  private evict(): void {
    if (this.cache.size <= this.capacity) return;
    for (const [index, table] of this.cache) {
      if (this.cache.size <= this.capacity) break;
      if (table.dirtyEnd === table.dirtyStart) this.cache.delete(index);
    }
  }
}

/** [start, end) widened to 4 KiB boundaries, within a table of `length` bytes. */
export function blockSpan(start: number, end: number, length: number): [number, number] {
  return [start - (start % 4096), Math.min(length, Math.ceil(end / 4096) * 4096)];
}
