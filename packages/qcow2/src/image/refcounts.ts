// The host-cluster allocator: the two-level refcount structure of one open qcow2 image. Changes are made
// in memory and recorded as dirty byte spans; writeBack() writes them, and the caller places the fsync
// barriers (refcounts are durable before any L2 entry points at a newly allocated cluster).
//
// Allocation reuses free clusters (refcount 0) from a moving hint, like qemu. Refcount blocks missing
// for an allocation are placed right after the allocated run, and counted with it.
// When the table itself is full it moves to the end of the file, with new blocks right after it that
// describe the new table and themselves; the header is switched only once both are on disk.
import { hex, imageError } from '../errors.js';
import type { Geometry } from '../format/geometry.js';
import { REFTABLE_FIELDS_OFFSET } from '../format/header.js';
import { writeU32, writeU64 } from '../format/endian.js';
import { maxRefcount, readRefcount, readReftableEntry, refcountByteRange, writeRefcount, writeReftableEntry } from '../format/refcount.js';
import type { ImageFile } from './file.js';
import { blockSpan } from './l2-tables.js';

interface Block {
  offset: number;
  bytes: Uint8Array;
  /** Dirty byte span [dirtyStart, dirtyEnd); empty when equal. */
  dirtyStart: number;
  dirtyEnd: number;
  /** Not yet on disk: the table entry pointing at it must wait for it. */
  fresh: boolean;
}

/**
 * The first pool holds up to this many bytes of clusters, and at most this many clusters. Each pool
 * used up by allocating writes is followed by one twice its size, up to the larger limits: a long run
 * of allocating writes (a guest filling its disk, or qemu-img bench -S) pays one refcount write and
 * barrier per 128 MiB, not per 8 MiB. A crash leaks at most one pool (check -r leaks takes it back);
 * the clusters lie past the end of the file until written, so they cost no disk space meanwhile.
 */
const POOL_BYTES = 8 * 1024 * 1024;
const POOL_MAX_CLUSTERS = 128;
const POOL_GROWN_BYTES = 128 * 1024 * 1024;
const POOL_GROWN_CLUSTERS = 2048;

export class Refcounts {
  private readonly blocks = new Map<number, Block>();
  private tableDirtyStart = 0;
  private tableDirtyEnd = 0;
  /** No free cluster below this index. */
  private freeHint = 1;
  /** Nothing is allocated at or above this cluster index. */
  private highWater: number;
  /**
   * Data clusters allocated ahead (refcount 1, referenced by nothing yet): taking from the pool needs
   * no refcount write, so a run of allocating writes pays one refcount update and barrier per pool,
   * not per write. Given back by settle(); a crash leaks them, which check -r leaks repairs.
   */
  private pool: { next: number; end: number; fresh: boolean } | undefined;
  /** Clusters the next pool gets (0: the first size); grows while pools are used up. */
  private poolSize = 0;

  constructor(
    private readonly file: ImageFile,
    private readonly g: Geometry,
    private tableOffset: number,
    private table: Uint8Array,
    /** Cluster ranges [start, end) holding header, L1 and refcount table: never handed out, whatever their refcount says. */
    private readonly reserved: [number, number][],
  ) {
    this.highWater = Math.ceil(file.length / g.clusterSize);
  }

  static async load(file: ImageFile, g: Geometry, tableOffset: number, tableClusters: number, reserved: [number, number][]): Promise<Refcounts> {
    const table = new Uint8Array(tableClusters * g.clusterSize);
    await file.read(table, tableOffset);
    return new Refcounts(file, g, tableOffset, table, reserved);
  }

  private get capacity(): number {
    return this.table.length / 8;
  }

  async get(cluster: number): Promise<number> {
    const block = await this.block(Math.floor(cluster / this.g.refcountBlockEntries));
    if (block === undefined) return 0;
    return readRefcount(block.bytes, cluster % this.g.refcountBlockEntries, this.g.refcountOrder, this.file.path);
  }

  /** Allocates `count` contiguous free clusters with refcount 1; returns the first one's byte offset. */
  async allocate(count: number): Promise<number> {
    const E = this.g.refcountBlockEntries;
    // Blocks missing for the run go right after it, so the run stays contiguous: look for
    // count + extra free clusters until extra covers every block the whole span needs.
    let extra = 0;
    for (;;) {
      const start = await this.findFree(count + extra);
      const end = start + count + extra;
      const missing: number[] = [];
      for (let ti = Math.floor(start / E); ti <= Math.floor((end - 1) / E); ti++) {
        if (ti >= this.capacity || this.entry(ti) === 0) missing.push(ti);
      }
      const beyond = missing.filter((ti) => ti >= this.capacity);
      if (beyond.length > 0) {
        await this.growTable(Math.max(...beyond));
        extra = 0;
        continue;
      }
      if (missing.length > extra) {
        extra = missing.length;
        continue;
      }
      missing.forEach((ti, i) => this.createBlock(ti, (start + count + i) * this.g.clusterSize));
      for (let c = start; c < start + count + missing.length; c++) await this.set(c, 1);
      this.freeHint = start + count + missing.length;
      this.highWater = Math.max(this.highWater, this.freeHint);
      return start * this.g.clusterSize;
    }
  }

  /**
   * `count` contiguous clusters for data, from the pool (refilled as needed). `fresh`: they lie past
   * everything this file ever held, so they read as zeros until written (no stale data to expose).
   */
  async take(count: number): Promise<{ offset: number; fresh: boolean }> {
    const cs = this.g.clusterSize;
    let pool = this.pool;
    if (pool === undefined || pool.end - pool.next < count) {
      const first = Math.max(1, Math.min(POOL_MAX_CLUSTERS, Math.floor(POOL_BYTES / cs)));
      const limit = Math.max(first, Math.min(POOL_GROWN_CLUSTERS, Math.floor(POOL_GROWN_BYTES / cs)));
      // A pool used up (not one given back by a flush) was too small for this stream of writes.
      this.poolSize = pool === undefined ? this.poolSize || first : Math.min(limit, Math.max(first, this.poolSize * 2));
      await this.settle();
      // Free space inside the file is reused first, one request at a time; only at its end are
      // clusters allocated ahead (where they are also fresh).
      const before = this.highWater;
      if ((await this.findFree(count)) < before) {
        this.poolSize = first;
        return { offset: await this.allocate(count), fresh: false };
      }
      const size = Math.max(count, this.poolSize);
      const start = (await this.allocate(size)) / cs;
      pool = this.pool = { next: start, end: start + size, fresh: start >= before };
    }
    const offset = pool.next * cs;
    pool.next += count;
    return { offset, fresh: pool.fresh };
  }

  /** Gives the pool's untaken clusters back (in memory: writeBack() writes the change). */
  async settle(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool === undefined || pool.end <= pool.next) return;
    await this.release(pool.next * this.g.clusterSize, pool.end - pool.next);
    // Untaken clusters of a fresh pool at the top were never written: they stay fresh, so the next pool
    // starts there again instead of reusing them one write at a time as old space.
    if (pool.fresh && pool.end === this.highWater) this.highWater = pool.next;
  }

  /** Moves the reserved range that started at cluster `oldStart` (the L1 table, after a resize). */
  moveReserved(oldStart: number, start: number, end: number): void {
    const range = this.reserved.find(([s]) => s === oldStart);
    if (range === undefined) this.reserved.push([start, end]);
    else [range[0], range[1]] = [start, end];
  }

  /** Adds one reference to each of `clusters` clusters from byte offset `offset` (a snapshot shares them). */
  async retain(offset: number, clusters: number): Promise<void> {
    const first = Math.floor(offset / this.g.clusterSize);
    for (let c = first; c < first + clusters; c++) await this.set(c, (await this.get(c)) + 1);
  }

  /** Whether changes wait in memory for writeBack(). */
  get dirty(): boolean {
    if (this.tableDirtyEnd > this.tableDirtyStart) return true;
    for (const block of this.blocks.values()) if (block.dirtyEnd > block.dirtyStart) return true;
    return false;
  }

  /**
   * Drops one reference from each of `clusters` clusters starting at byte offset `offset`; returns the
   * indexes of those now free (refcount 0).
   */
  async release(offset: number, clusters: number): Promise<number[]> {
    const first = Math.floor(offset / this.g.clusterSize);
    const freed: number[] = [];
    for (let c = first; c < first + clusters; c++) {
      const current = await this.get(c);
      if (current === 0) {
        throw imageError('EQCOW2_BAD_REFCOUNT', this.file.path, `cluster at ${hex(c * this.g.clusterSize)} is freed but its refcount is already 0`);
      }
      await this.set(c, current - 1);
      if (current === 1) {
        this.freeHint = Math.min(this.freeHint, c);
        freed.push(c);
      }
    }
    return freed;
  }

  /** Writes every changed block and table entry; fsyncs between new blocks and the entries naming them. */
  async writeBack(): Promise<void> {
    let fresh = false;
    for (const block of this.blocks.values()) {
      if (block.dirtyEnd > block.dirtyStart) {
        const [start, end] = blockSpan(block.dirtyStart, block.dirtyEnd, block.bytes.length);
        await this.file.writeMetadata(block.bytes.subarray(start, end), block.offset + start);
        fresh ||= block.fresh;
        block.dirtyStart = block.dirtyEnd = 0;
        block.fresh = false;
      }
    }
    if (this.tableDirtyEnd > this.tableDirtyStart) {
      if (fresh) await this.file.sync();
      await this.file.writeMetadata(this.table.subarray(this.tableDirtyStart, this.tableDirtyEnd), this.tableOffset + this.tableDirtyStart);
      this.tableDirtyStart = this.tableDirtyEnd = 0;
    }
  }

  private entry(tableIndex: number): number {
    return readReftableEntry(this.table, tableIndex, this.g.clusterSize, this.file.path);
  }

  private async block(tableIndex: number): Promise<Block | undefined> {
    const cached = this.blocks.get(tableIndex);
    if (cached !== undefined) return cached;
    if (tableIndex >= this.capacity) return undefined;
    const offset = this.entry(tableIndex);
    if (offset === 0) return undefined;
    if (offset + this.g.clusterSize > this.file.length) {
      throw imageError('EQCOW2_BAD_REFCOUNT', this.file.path, `refcount block ${tableIndex} at ${hex(offset)} is past the end of the file`, {
        offset,
      });
    }
    const bytes = new Uint8Array(this.g.clusterSize);
    await this.file.read(bytes, offset);
    const block: Block = { offset, bytes, dirtyStart: 0, dirtyEnd: 0, fresh: false };
    this.blocks.set(tableIndex, block);
    return block;
  }

  private async set(cluster: number, value: number): Promise<void> {
    const E = this.g.refcountBlockEntries;
    const block = await this.block(Math.floor(cluster / E));
    if (block === undefined) throw new Error(`internal: no refcount block for cluster ${cluster}`);
    if (value > maxRefcount(this.g.refcountOrder)) {
      throw imageError('EQCOW2_BAD_REFCOUNT', this.file.path, `refcount of cluster ${hex(cluster * this.g.clusterSize)} would overflow`);
    }
    writeRefcount(block.bytes, cluster % E, this.g.refcountOrder, value);
    markDirty(block, ...refcountByteRange(cluster % E, this.g.refcountOrder));
  }

  private isReserved(cluster: number): boolean {
    return this.reserved.some(([start, end]) => cluster >= start && cluster < end);
  }

  /** First run of `count` free clusters at or after the hint. A missing block or table slot means free. */
  private async findFree(count: number): Promise<number> {
    const E = this.g.refcountBlockEntries;
    let c = this.freeHint;
    let start = c;
    let run = 0;
    for (;;) {
      const ti = Math.floor(c / E);
      const block = await this.block(ti);
      const end = (ti + 1) * E;
      for (; c < end; c++) {
        const free = !this.isReserved(c) && (block === undefined || readRefcount(block.bytes, c - ti * E, this.g.refcountOrder, this.file.path) === 0);
        if (!free) {
          run = 0;
          continue;
        }
        if (run === 0) start = c;
        if (++run === count) return start;
      }
    }
  }

  /** Adds an empty block for tableIndex at offset; the caller sets the block's own refcount. */
  private createBlock(tableIndex: number, offset: number): void {
    const bytes = new Uint8Array(this.g.clusterSize);
    this.blocks.set(tableIndex, { offset, bytes, dirtyStart: 0, dirtyEnd: bytes.length, fresh: true });
    this.setEntry(tableIndex, offset);
  }

  private setEntry(tableIndex: number, offset: number): void {
    writeReftableEntry(this.table, tableIndex, offset);
    const start = tableIndex * 8;
    if (this.tableDirtyEnd === this.tableDirtyStart) {
      this.tableDirtyStart = start;
      this.tableDirtyEnd = start + 8;
    } else {
      this.tableDirtyStart = Math.min(this.tableDirtyStart, start);
      this.tableDirtyEnd = Math.max(this.tableDirtyEnd, start + 8);
    }
  }

  /** Moves the table to the end of the file with room for `minIndex`, plus blocks that count the move. */
  private async growTable(minIndex: number): Promise<void> {
    const { clusterSize: cs, refcountBlockEntries: E, reftableEntriesPerCluster: perCluster } = this.g;
    const oldClusters = this.table.length / cs;
    const area = Math.max(this.highWater, Math.ceil(this.file.length / cs));
    let tableClusters = Math.max(oldClusters * 2, Math.ceil((minIndex + 1) / perCluster));
    let missing: number[] = [];
    for (;;) {
      const last = area + tableClusters + missing.length - 1;
      const needed: number[] = [];
      for (let ti = Math.floor(area / E); ti <= Math.floor(last / E); ti++) {
        if (ti >= this.capacity || this.entry(ti) === 0) needed.push(ti);
      }
      const needClusters = Math.max(tableClusters, Math.ceil((Math.floor(last / E) + 1) / perCluster));
      if (needed.length === missing.length && needClusters === tableClusters) break;
      missing = needed;
      tableClusters = needClusters;
    }
    const table = new Uint8Array(tableClusters * cs);
    table.set(this.table);
    const oldOffset = this.tableOffset;
    this.table = table;
    this.tableOffset = area * cs;
    this.tableDirtyStart = 0;
    this.tableDirtyEnd = table.length;
    missing.forEach((ti, i) => this.createBlock(ti, (area + tableClusters + i) * cs));
    const end = area + tableClusters + missing.length;
    for (let c = area; c < end; c++) await this.set(c, 1);
    this.highWater = Math.max(this.highWater, end);
    // Blocks and the new table first, then the header switches to it: a crash leaves the old table valid.
    await this.writeBack();
    await this.file.sync();
    const fields = new Uint8Array(12);
    writeU64(fields, 0, this.tableOffset);
    writeU32(fields, 8, tableClusters);
    await this.file.write(fields, REFTABLE_FIELDS_OFFSET);
    await this.file.sync();
    const reservedTable = this.reserved.find(([start]) => start === oldOffset / cs);
    if (reservedTable !== undefined) {
      reservedTable[0] = area;
      reservedTable[1] = area + tableClusters;
    }
    await this.release(oldOffset, oldClusters);
    await this.writeBack();
  }
}

function markDirty(block: Block, start: number, end: number): void {
  if (block.dirtyEnd === block.dirtyStart) {
    block.dirtyStart = start;
    block.dirtyEnd = end;
  } else {
    block.dirtyStart = Math.min(block.dirtyStart, start);
    block.dirtyEnd = Math.max(block.dirtyEnd, end);
  }
}
