// Executes guest writes of a qcow2 image. A cluster that is allocated with refcount one is written in
// place; any other (unallocated, zero, compressed, shared) gets a new host cluster whose content is the
// old guest content overlaid with the new bytes (copy-on-write from the backing file, a compressed
// cluster or a shared one). Crash-safe order, with fdatasync as the barrier:
//   1. data clusters and the refcounts that allocate them (and any new L2 table's refcount)
//   2. L2 entries pointing at the new clusters
//   3. L1 entries pointing at new L2 tables
//   4. refcount decrements of the clusters no longer referenced
// A crash between steps leaks clusters at worst (qemu-img check -r leaks repairs that), never points
// an L2 or L1 entry at unaccounted data, nor at unwritten data where old content (backing file,
// compressed or shared cluster) was copied forward. Data clusters come from a pool allocated ahead
// (Refcounts.take), whose refcounts are durable before any of them is used: so a write into a fresh
// cluster whose old content was zeros needs no barrier at all, and a crash before a flush may show
// such a write's cluster as zeros, as qemu's (and a disk's volatile cache) would.
//
// With lazy refcounts (a compatible feature), the image is marked dirty before its first metadata
// change and refcounts are written only at flush/close: steps 1 and 4 lose their refcount writes and
// the barrier between data and L2. A crash leaves the image dirty, and the next read-write open
// rebuilds the refcounts (check.ts) before trusting them.
import { INCOMPAT_DIRTY } from '../format/features.js';
import type { L2Entry } from '../format/l2-entry.js';
import { readL2Entry, writeL2Entry } from '../format/l2-entry.js';
import { afterWrite, alignDown, alignUp, bitmapsOf, holdsData, touchedMask } from '../format/subclusters.js';
import type { ClusterReader } from './cluster-reader.js';
import { writeIncompatible } from './metadata.js';
import type { Refcounts } from './refcounts.js';
import type { Qcow2State } from './state.js';

const DIRTY = 1n << BigInt(INCOMPAT_DIRTY);
/** Writes into fresh clusters cover whole pieces of this size (O_DIRECT's largest block). */
const FRESH_BLOCK = 4096;

/**
 * What happens to one guest cluster of a write: written in place (its host cluster holds data for every
 * subcluster touched); filled (extended L2: the host cluster is ours, but some touched subclusters do not
 * hold data yet, so their bitmap changes); or allocated anew, `old` being the entry it replaces.
 */
type Action =
  | { cluster: number; hostOffset: number; mode: 'inPlace' }
  | { cluster: number; hostOffset: number; mode: 'fill'; old: L2Entry }
  | { cluster: number; hostOffset: number; mode: 'allocate'; old: L2Entry; release?: { offset: number; clusters: number } };

export class ClusterWriter {
  /** Data writes of the current batch not yet awaited. */
  private inflight: Promise<void>[] = [];

  constructor(
    private readonly s: Qcow2State & { refcounts: Refcounts },
    private readonly reader: ClusterReader,
  ) {}

  async write(buf: Uint8Array, offset: number): Promise<void> {
    await this.writeBatch([{ buf, offset }]);
  }

  /**
   * Several writes that share the barriers (group commit): each one's data is written and its new L2
   * entries are set in memory in turn (so a later write in the batch sees an earlier one's clusters),
   * then the refcounts, one sync, the L2 tables, the L1 table and the frees, as for a single write.
   * Under queue depth, this turns one fdatasync per allocating write into one per batch.
   */
  async writeBatch(items: readonly { buf: Uint8Array; offset: number }[]): Promise<void> {
    const { g, file, tables, refcounts } = this.s;
    const lazy = this.s.lazy;
    let barrier = false;
    const releases: { offset: number; clusters: number }[] = [];
    // Data writes of the batch run concurrently; anything that reads old content waits for them first.
    this.inflight = [];
    for (const { buf, offset } of items) {
      if (buf.length === 0) continue;
      const actions = await this.plan(offset, buf.length);
      if (lazy && (actions.some((a) => a.mode !== 'inPlace') || tables.l1Dirty)) await this.markDirty();

      // Step 1: new clusters are allocated run by run, so each run is one contiguous write.
      for (let i = 0; i < actions.length; ) {
        const action = actions[i];
        if (action.mode === 'inPlace') {
          // The cluster may be one an earlier write of the batch just allocated, its data still in
          // flight over the same blocks (a fresh cluster's write covers whole 4 KiB blocks): wait.
          await this.settleInflight();
          await this.writeInPlace(buf, offset, action);
          i++;
          continue;
        }
        if (action.mode === 'fill') {
          await this.fill(buf, offset, action);
          barrier = true; // the data must be durable before the bitmap that exposes it
          i++;
          continue;
        }
        let j = i;
        while (j < actions.length && actions[j].mode === 'allocate') j++;
        const run = actions.slice(i, j) as Extract<Action, { mode: 'allocate' }>[];
        const { offset: host, fresh } = await refcounts.take(run.length);
        run.forEach((a, k) => (a.hostOffset = host + k * g.clusterSize));
        const cow = !fresh || run.some((a) => this.keepsOldContent(a.old));
        if (cow) this.track(file.write(await this.composeRun(buf, offset, run), host));
        else this.track(this.writeFresh(buf, offset, run, host));
        barrier ||= cow;
        i = j;
      }
      this.reader.invalidate();
      // The new entries, in memory only until step 2: nothing writes a dirty L2 table before then.
      for (const action of actions) {
        if (action.mode === 'inPlace') continue;
        const l1Index = Math.floor(action.cluster / g.l2Entries);
        const table = await tables.writableTable(l1Index, refcounts);
        writeL2Entry(table, action.cluster % g.l2Entries, g, this.entryAfter(action, offset, buf.length));
        tables.markDirty(l1Index, action.cluster % g.l2Entries);
        if (action.mode === 'allocate' && action.release !== undefined) releases.push(action.release);
      }
    }
    await this.settleInflight();
    if (!lazy && (barrier || refcounts.dirty)) {
      await refcounts.writeBack();
      await file.sync();
    }
    // Steps 2 and 3.
    await tables.writeBackL2();
    if (tables.l1Dirty || releases.length > 0) await file.sync();
    await tables.writeBackL1();
    await this.releaseAll(releases);
  }

  /** Step 4: only now is nothing on disk pointing at the old clusters (or at copied-away L2 tables). */
  private async releaseAll(releases: { offset: number; clusters: number }[]): Promise<void> {
    const { file, tables, refcounts } = this.s;
    const oldTables = tables.takeReleases();
    if (releases.length === 0 && oldTables.length === 0) return;
    if (oldTables.length > 0 && !this.s.lazy) await file.sync(); // the new L1 entries are durable first
    const freed: number[] = [];
    for (const offset of oldTables) freed.push(...(await refcounts.release(offset, 1)));
    for (const r of releases) freed.push(...(await refcounts.release(r.offset, r.clusters)));
    if (this.s.lazy) return; // the tables that named them may not be on disk yet: their space stays
    await refcounts.writeBack();
    // Only once the tables that named them are on disk (synced above): a crash finds no table naming a hole.
    await file.punchClusters(freed, this.s.g.clusterSize);
  }

  /**
   * Makes whole clusters of [offset, offset + length) zero clusters (v3) or unallocated, and frees
   * what they held. With mode 'zero' the partial clusters at either end are written with zeros; with
   * 'discard' they are left alone. Order: new L2 tables' refcounts, L2 entries, L1, then the frees.
   */
  async zero(offset: number, length: number, mode: 'zero' | 'discard' | 'unmap'): Promise<void> {
    if (length === 0) return;
    const { g, file, tables, refcounts, header } = this.s;
    const cs = g.clusterSize;
    const end = offset + length;
    // The disk's last cluster counts as whole when the range reaches the end of the disk.
    const firstWhole = Math.ceil(offset / cs);
    const lastWhole = end === this.s.size ? Math.ceil(end / cs) : Math.floor(end / cs);
    if (mode === 'zero') {
      if (firstWhole >= lastWhole) return this.write(new Uint8Array(length), offset);
      if (offset < firstWhole * cs) await this.write(new Uint8Array(firstWhole * cs - offset), offset);
      if (end > lastWhole * cs) await this.write(new Uint8Array(end - lastWhole * cs), lastWhole * cs);
    }
    if (firstWhole >= lastWhole) return;
    const v3 = header.version === 3;
    const hasBacking = this.s.backing !== undefined;
    if (mode === 'zero' && !v3 && hasBacking) {
      // No zero clusters in v2: only data hides the backing file.
      for (let c = firstWhole; c < lastWhole; c += 256) {
        const n = Math.min(256, lastWhole - c);
        const bytes = Math.min(n * cs, this.s.size - c * cs);
        await this.write(new Uint8Array(bytes), c * cs);
      }
      return;
    }
    const target: L2Entry =
      mode !== 'unmap' && v3 && (hasBacking || mode === 'zero') ? { kind: 'zero', hostOffset: 0, copied: false } : { kind: 'unallocated' };
    const lazy = this.s.lazy;
    const releases: { offset: number; clusters: number }[] = [];
    let changed = false;
    let newTables = false;
    for (let cluster = firstWhole; cluster < lastWhole; cluster++) {
      const l1Index = Math.floor(cluster / g.l2Entries);
      const l2Index = cluster % g.l2Entries;
      let table = await tables.table(l1Index);
      const entry: L2Entry = table === undefined ? { kind: 'unallocated' } : readL2Entry(table, l2Index, g, file.path);
      if (entry.kind === target.kind && (entry.kind !== 'zero' || entry.hostOffset === 0)) continue;
      // Without a backing file an unallocated cluster already reads as zeros.
      if (entry.kind === 'unallocated' && (!hasBacking || mode === 'unmap')) continue;
      if (lazy && !changed) await this.markDirty();
      if (table === undefined) {
        table = await tables.writableTable(l1Index, refcounts);
        newTables = true;
      } else {
        table = await tables.writableTable(l1Index, refcounts);
      }
      writeL2Entry(table, l2Index, g, target);
      tables.markDirty(l1Index, l2Index);
      const release = released(entry, cs);
      if (release !== undefined) releases.push(release);
      changed = true;
    }
    if (!changed) return;
    this.reader.invalidate();
    if ((newTables || refcounts.dirty) && !lazy) {
      await refcounts.writeBack();
      await file.sync();
    }
    await tables.writeBackL2();
    if (tables.l1Dirty || (releases.length > 0 && !lazy)) await file.sync();
    await tables.writeBackL1();
    await this.releaseAll(releases);
  }

  /**
   * Whether a new cluster that replaces `old` carries old content forward (copy-on-write), which must
   * be on disk before the L2 entry that points at it: else a crash could show the old bytes lost.
   * Replacing nothing but zeros in a fresh cluster (which reads as zeros anyway) needs no barrier.
   */
  private keepsOldContent(old: L2Entry): boolean {
    return this.s.backing !== undefined || bitmapsOf(old).allocated !== 0;
  }

  /** Gives back clusters allocated ahead and writes the refcounts: before snapshot and resize operations. */
  async settle(): Promise<void> {
    await this.s.refcounts.settle();
    await this.s.refcounts.writeBack();
  }

  /** Makes every completed write durable, after giving back clusters allocated ahead. */
  async flush(): Promise<void> {
    await this.settle();
    await this.s.file.sync();
  }

  /** Flushes, then clears the dirty bit lazy refcounts set: the refcounts on disk are right again. */
  async close(): Promise<void> {
    await this.flush();
    const h = this.s.header;
    if ((h.incompatibleFeatures & DIRTY) !== 0n) {
      h.incompatibleFeatures &= ~DIRTY;
      await writeIncompatible(this.s.file, h);
      await this.s.file.sync();
    }
  }

  /** Sets the dirty bit (once) before lazy refcounts let the refcounts on disk fall behind. */
  private async markDirty(): Promise<void> {
    const h = this.s.header;
    if ((h.incompatibleFeatures & DIRTY) !== 0n) return;
    h.incompatibleFeatures |= DIRTY;
    await writeIncompatible(this.s.file, h);
    await this.s.file.sync();
  }

  /**
   * Writes in place, with no metadata change, when every cluster touched is already allocated with
   * refcount one ("copied") in a cached L2 table; returns false (having written nothing) otherwise.
   * Safe to run concurrently with reads and other in-place writes.
   */
  async tryWriteInPlace(buf: Uint8Array, offset: number): Promise<boolean> {
    if (buf.length === 0) return true;
    const { g, file, tables } = this.s;
    const cs = g.clusterSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + buf.length - 1) / cs);
    const hosts: number[] = [];
    for (let cluster = first; cluster <= last; cluster++) {
      const table = tables.peek(Math.floor(cluster / g.l2Entries));
      if (table === undefined) return false;
      const entry = readL2Entry(table, cluster % g.l2Entries, g, file.path);
      if (entry.kind === 'normal') {
        if (!entry.copied) return false;
      } else if (entry.kind !== 'subclusters' || !entry.copied || !holdsData(entry, this.mask(cluster, offset, buf.length))) {
        return false;
      }
      hosts.push(entry.hostOffset);
    }
    // One write per host-contiguous run.
    let runStart = 0;
    for (let i = 1; i <= hosts.length; i++) {
      if (i < hosts.length && hosts[i] === hosts[i - 1] + cs) continue;
      const from = Math.max(offset, (first + runStart) * cs);
      const to = Math.min(offset + buf.length, (first + i) * cs);
      await file.write(buf.subarray(from - offset, to - offset), hosts[runStart] + (from - (first + runStart) * cs));
      runStart = i;
    }
    return true;
  }

  /** The subclusters of `cluster` that a write of `length` bytes at `offset` touches. */
  private mask(cluster: number, offset: number, length: number): number {
    const cs = this.s.g.clusterSize;
    const start = Math.max(offset, cluster * cs);
    const end = Math.min(offset + length, (cluster + 1) * cs);
    return touchedMask(this.s.g, start - cluster * cs, end - start);
  }

  /**
   * Decides per cluster of a write; allocates missing L2 tables and sets "copied" where a refcount
   * turns out to be one.
   */
  private async plan(offset: number, length: number): Promise<Action[]> {
    const { g, file, tables, refcounts } = this.s;
    const actions: Action[] = [];
    const first = Math.floor(offset / g.clusterSize);
    const last = Math.floor((offset + length - 1) / g.clusterSize);
    for (let cluster = first; cluster <= last; cluster++) {
      const l1Index = Math.floor(cluster / g.l2Entries);
      const l2Index = cluster % g.l2Entries;
      const table = await tables.writableTable(l1Index, refcounts);
      const entry = readL2Entry(table, l2Index, g, file.path);
      if ((entry.kind === 'normal' || entry.kind === 'subclusters') && entry.hostOffset !== 0) {
        if (entry.copied || (await refcounts.get(entry.hostOffset / g.clusterSize)) === 1) {
          const owned = { ...entry, copied: true };
          if (!entry.copied) {
            writeL2Entry(table, l2Index, g, owned);
            tables.markDirty(l1Index, l2Index);
          }
          if (holdsData(entry, this.mask(cluster, offset, length))) actions.push({ cluster, hostOffset: entry.hostOffset, mode: 'inPlace' });
          else actions.push({ cluster, hostOffset: entry.hostOffset, mode: 'fill', old: owned });
          continue;
        }
      }
      actions.push({ cluster, hostOffset: 0, mode: 'allocate', old: entry, release: released(entry, g.clusterSize) });
    }
    return actions;
  }

  /** The L2 entry of a filled or newly allocated cluster once the write's data is in it. */
  private entryAfter(action: Extract<Action, { mode: 'fill' | 'allocate' }>, offset: number, length: number): L2Entry {
    if (!this.s.g.extendedL2) return { kind: 'normal', hostOffset: action.hostOffset, copied: true };
    return { kind: 'subclusters', hostOffset: action.hostOffset, copied: true, ...afterWrite(action.old, this.mask(action.cluster, offset, length)) };
  }

  private async writeInPlace(buf: Uint8Array, offset: number, action: Action): Promise<void> {
    const cs = this.s.g.clusterSize;
    const start = Math.max(offset, action.cluster * cs);
    const end = Math.min(offset + buf.length, (action.cluster + 1) * cs);
    await this.s.file.write(buf.subarray(start - offset, end - offset), action.hostOffset + (start - action.cluster * cs));
  }

  /**
   * Extended L2: writes the touched subclusters of a host cluster we own (partial ones completed from
   * the current content), leaving the other subclusters' bytes alone.
   */
  private async fill(buf: Uint8Array, offset: number, action: Action): Promise<void> {
    const { g } = this.s;
    const clusterStart = action.cluster * g.clusterSize;
    const from = alignDown(g, Math.max(offset, clusterStart));
    const to = Math.min(clusterStart + g.clusterSize, alignUp(g, offset + buf.length));
    const bytes = await this.compose(buf, offset, from, to, from, to);
    await this.s.file.write(bytes, action.hostOffset + (from - clusterStart));
  }

  /**
   * The new content of a run of clusters to allocate. Only the first and last cluster of a write can be
   * partial; their untouched bytes are copied from the current content when the old entry held data
   * (all of it must move), else only within the subclusters the write touches (with extended L2 the
   * others keep their zero or backing state, so their bytes in the new cluster do not matter).
   */
  private async composeRun(buf: Uint8Array, offset: number, run: Extract<Action, { mode: 'allocate' }>[]): Promise<Uint8Array> {
    const { g } = this.s;
    const runStart = run[0].cluster * g.clusterSize;
    const runEnd = (run[run.length - 1].cluster + 1) * g.clusterSize;
    const oldFrom = bitmapsOf(run[0].old).allocated !== 0 ? runStart : alignDown(g, Math.max(offset, runStart));
    const oldTo = bitmapsOf(run[run.length - 1].old).allocated !== 0 ? runEnd : Math.min(runEnd, alignUp(g, offset + buf.length));
    return this.compose(buf, offset, runStart, runEnd, oldFrom, oldTo);
  }

  /**
   * A run of fresh clusters (they read as zeros) replacing zeros: only the 4 KiB blocks the write
   * touches are written, straight from the caller's buffer when the write is block-aligned.
   */
  private async writeFresh(buf: Uint8Array, offset: number, run: Extract<Action, { mode: 'allocate' }>[], host: number): Promise<void> {
    const cs = this.s.g.clusterSize;
    const runStart = run[0].cluster * cs;
    const runEnd = (run[run.length - 1].cluster + 1) * cs;
    const writeStart = Math.max(offset, runStart);
    const writeEnd = Math.min(offset + buf.length, runEnd);
    const from = Math.max(runStart, writeStart - ((writeStart - runStart) % FRESH_BLOCK));
    const to = Math.min(runEnd, runStart + Math.ceil((writeEnd - runStart) / FRESH_BLOCK) * FRESH_BLOCK);
    const bytes = from === writeStart && to === writeEnd ? buf.subarray(writeStart - offset, writeEnd - offset) : await this.compose(buf, offset, from, to, writeStart, writeEnd);
    await this.s.file.write(bytes, host + (from - runStart));
  }

  /** Guest bytes [from, to): the write's where it reaches, the current content within [oldFrom, oldTo), zeros elsewhere. */
  private async compose(buf: Uint8Array, offset: number, from: number, to: number, oldFrom: number, oldTo: number): Promise<Uint8Array> {
    const out = new Uint8Array(to - from);
    const writeStart = Math.max(offset, from);
    const writeEnd = Math.min(offset + buf.length, to);
    if (writeStart > oldFrom) await this.readOld(out, from, oldFrom, writeStart);
    if (writeEnd < oldTo) await this.readOld(out, from, writeEnd, oldTo);
    out.set(buf.subarray(writeStart - offset, writeEnd - offset), writeStart - from);
    return out;
  }

  /** Starts a data write of the batch; if the batch fails before waiting for it, its error is not unhandled. */
  private track(write: Promise<void>): void {
    write.catch(() => undefined);
    this.inflight.push(write);
  }

  /** Waits for the batch's data writes (a failure surfaces here, after all of them ended). */
  private async settleInflight(): Promise<void> {
    const writes = this.inflight;
    this.inflight = [];
    const results = await Promise.allSettled(writes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  private async readOld(out: Uint8Array, runStart: number, from: number, to: number): Promise<void> {
    await this.settleInflight(); // an earlier write of the batch may be what is read
    const end = Math.min(to, this.s.size); // the tail of the disk's last cluster stays zero
    if (end > from) await this.reader.read(out.subarray(from - runStart, end - runStart), from);
  }
}

/** The host clusters an entry holds that a new allocation replaces. */
function released(entry: L2Entry, clusterSize: number): { offset: number; clusters: number } | undefined {
  switch (entry.kind) {
    case 'normal':
      return { offset: entry.hostOffset, clusters: 1 };
    case 'zero':
    case 'subclusters':
      return entry.hostOffset === 0 ? undefined : { offset: entry.hostOffset, clusters: 1 };
    case 'compressed': {
      const firstCluster = Math.floor(entry.hostOffset / clusterSize);
      const lastCluster = Math.floor((entry.hostOffset + entry.compressedSize - 1) / clusterSize);
      return { offset: firstCluster * clusterSize, clusters: lastCluster - firstCluster + 1 };
    }
    default:
      return undefined;
  }
}
