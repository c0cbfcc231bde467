// Executes guest writes of a qcow2 image. A cluster that is allocated with refcount one is written in
// place; any other (unallocated, zero, compressed, shared) gets a new host cluster whose content is the
// old guest content overlaid with the new bytes (copy-on-write from the backing file, a compressed
// cluster or a shared one). Crash-safe order, with fdatasync as the barrier:
//   1. data clusters and the refcounts that allocate them (and any new L2 table's refcount)
//   2. L2 entries pointing at the new clusters
//   3. L1 entries pointing at new L2 tables
//   4. refcount decrements of the clusters no longer referenced
// A crash between steps leaks clusters at worst (qemu-img check -r leaks repairs that), never points
// an L2 or L1 entry at unwritten or unaccounted data.
//
// With lazy refcounts (a compatible feature), the image is marked dirty before its first metadata
// change and refcounts are written only at flush/close: steps 1 and 4 lose their refcount writes and
// the barrier between data and L2. A crash leaves the image dirty, and the next read-write open
// rebuilds the refcounts (check.ts) before trusting them.
import { INCOMPAT_DIRTY } from '../format/features.js';
import type { L2Entry } from '../format/l2-entry.js';
import { readL2Entry, writeL2Entry } from '../format/l2-entry.js';
import type { ClusterReader } from './cluster-reader.js';
import { writeIncompatible } from './metadata.js';
import type { Refcounts } from './refcounts.js';
import type { Qcow2State } from './state.js';

const DIRTY = 1n << BigInt(INCOMPAT_DIRTY);

/** What happens to one guest cluster of a write. */
type Action =
  | { cluster: number; hostOffset: number; allocate: false }
  | { cluster: number; hostOffset: number; allocate: true; release?: { offset: number; clusters: number } };

export class ClusterWriter {
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
    let allocated = false;
    const releases: { offset: number; clusters: number }[] = [];
    for (const { buf, offset } of items) {
      if (buf.length === 0) continue;
      const first = Math.floor(offset / g.clusterSize);
      const last = Math.floor((offset + buf.length - 1) / g.clusterSize);
      const actions = await this.plan(first, last);
      if (lazy && (actions.some((a) => a.allocate) || tables.l1Dirty)) await this.markDirty();

      // Step 1: new clusters are allocated run by run, so each run is one contiguous write.
      for (let i = 0; i < actions.length; ) {
        const action = actions[i];
        if (!action.allocate) {
          await this.writeInPlace(buf, offset, action);
          i++;
          continue;
        }
        let j = i;
        while (j < actions.length && actions[j].allocate) j++;
        const run = actions.slice(i, j);
        const host = await refcounts.allocate(run.length);
        run.forEach((a, k) => (a.hostOffset = host + k * g.clusterSize));
        await file.write(await this.compose(buf, offset, run[0].cluster, run.length), host);
        allocated = true;
        i = j;
      }
      this.reader.invalidate();
      // The new entries, in memory only until step 2: nothing writes a dirty L2 table before then.
      for (const action of actions) {
        if (!action.allocate) continue;
        const l1Index = Math.floor(action.cluster / g.l2Entries);
        const table = await tables.writableTable(l1Index, refcounts);
        writeL2Entry(table, action.cluster % g.l2Entries, g, { kind: 'normal', hostOffset: action.hostOffset, copied: true });
        tables.markDirty(l1Index, action.cluster % g.l2Entries);
        if (action.release !== undefined) releases.push(action.release);
      }
    }
    if (!lazy && (allocated || refcounts.dirty)) {
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
    for (const offset of oldTables) await refcounts.release(offset, 1);
    for (const r of releases) await refcounts.release(r.offset, r.clusters);
    if (!this.s.lazy) await refcounts.writeBack();
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

  /** Makes every completed write durable; with lazy refcounts, writes the refcounts first. */
  async flush(): Promise<void> {
    if (this.s.lazy) await this.s.refcounts.writeBack();
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
      if (entry.kind !== 'normal' || !entry.copied) return false;
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

  /** Decides per cluster; allocates missing L2 tables and sets "copied" where a refcount turns out to be one. */
  private async plan(first: number, last: number): Promise<Action[]> {
    const { g, file, tables, refcounts } = this.s;
    const actions: Action[] = [];
    for (let cluster = first; cluster <= last; cluster++) {
      const l1Index = Math.floor(cluster / g.l2Entries);
      const l2Index = cluster % g.l2Entries;
      const table = await tables.writableTable(l1Index, refcounts);
      const entry = readL2Entry(table, l2Index, g, file.path);
      if (entry.kind === 'normal') {
        if (entry.copied || (await refcounts.get(entry.hostOffset / g.clusterSize)) === 1) {
          if (!entry.copied) {
            writeL2Entry(table, l2Index, g, { ...entry, copied: true });
            tables.markDirty(l1Index, l2Index);
          }
          actions.push({ cluster, hostOffset: entry.hostOffset, allocate: false });
          continue;
        }
      }
      actions.push({ cluster, hostOffset: 0, allocate: true, release: released(entry, g.clusterSize) });
    }
    return actions;
  }

  private async writeInPlace(buf: Uint8Array, offset: number, action: Action): Promise<void> {
    const cs = this.s.g.clusterSize;
    const start = Math.max(offset, action.cluster * cs);
    const end = Math.min(offset + buf.length, (action.cluster + 1) * cs);
    await this.s.file.write(buf.subarray(start - offset, end - offset), action.hostOffset + (start - action.cluster * cs));
  }

  /** The new content of `count` clusters from `cluster`: old guest bytes where the write does not reach. */
  private async compose(buf: Uint8Array, offset: number, cluster: number, count: number): Promise<Uint8Array> {
    const cs = this.s.g.clusterSize;
    const runStart = cluster * cs;
    const runEnd = runStart + count * cs;
    const out = new Uint8Array(count * cs);
    const writeStart = Math.max(offset, runStart);
    const writeEnd = Math.min(offset + buf.length, runEnd);
    // Only the first and last cluster of a write can be partial: fill them from the current content.
    if (writeStart > runStart) await this.readOld(out, runStart, runStart, writeStart);
    if (writeEnd < runEnd) await this.readOld(out, runStart, writeEnd, runEnd);
    out.set(buf.subarray(writeStart - offset, writeEnd - offset), writeStart - runStart);
    return out;
  }

  private async readOld(out: Uint8Array, runStart: number, from: number, to: number): Promise<void> {
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
