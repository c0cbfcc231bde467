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
import type { L2Entry } from '../format/l2-entry.js';
import { readL2Entry, writeL2Entry } from '../format/l2-entry.js';
import type { ClusterReader } from './cluster-reader.js';
import type { Refcounts } from './refcounts.js';
import type { Qcow2State } from './state.js';

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
    if (buf.length === 0) return;
    const { g, file, tables, refcounts } = this.s;
    const first = Math.floor(offset / g.clusterSize);
    const last = Math.floor((offset + buf.length - 1) / g.clusterSize);
    const actions = await this.plan(first, last);

    // Step 1: new clusters are allocated run by run, so each run is one contiguous write.
    let allocated = false;
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
    await refcounts.writeBack();
    if (allocated) await file.sync();

    // Step 2 and 3.
    const releases: { offset: number; clusters: number }[] = [];
    for (const action of actions) {
      if (!action.allocate) continue;
      const l1Index = Math.floor(action.cluster / g.l2Entries);
      const table = await tables.writableTable(l1Index, refcounts);
      writeL2Entry(table, action.cluster % g.l2Entries, g, { kind: 'normal', hostOffset: action.hostOffset, copied: true });
      tables.markDirty(l1Index, action.cluster % g.l2Entries);
      if (action.release !== undefined) releases.push(action.release);
    }
    await tables.writeBackL2();
    if (tables.l1Dirty || releases.length > 0) await file.sync();
    await tables.writeBackL1();

    // Step 4: only now is nothing on disk pointing at the old clusters.
    if (releases.length > 0) {
      for (const r of releases) await refcounts.release(r.offset, r.clusters);
      await refcounts.writeBack();
    }
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
