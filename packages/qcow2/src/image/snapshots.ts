// Internal snapshots of an open, writable qcow2 image: create, apply (goto) and delete, as qemu's
// qcow2-snapshot.c does them. A snapshot is a copy of the L1 table; every L2 table and data cluster
// it reaches gains a reference, so later writes copy them (cluster-writer, l2-tables) instead of
// changing them. Crash order: references are added and made durable before anything points at them,
// and dropped only after nothing on disk does, so a crash leaks clusters at worst. The "copied" flags
// cannot change in the same instant as the refcounts they describe, so (v3) each operation runs under
// the dirty bit: a crash in between leaves a dirty image, which the next read-write open repairs.
import { imageError } from '../errors.js';
import { readL1Entry, writeL1Entry } from '../format/l1-entry.js';
import { readL2Entry, writeL2Entry } from '../format/l2-entry.js';
import { encodeSnapshots, type Snapshot } from '../format/snapshot.js';
import { INCOMPAT_DIRTY } from '../format/features.js';
import { writeIncompatible, writeSizeFields, writeSnapshotFields } from './metadata.js';
import type { Refcounts } from './refcounts.js';
import type { Qcow2State } from './state.js';

type State = Qcow2State & { refcounts: Refcounts };

const DIRTY = 1n << BigInt(INCOMPAT_DIRTY);

/** Runs a snapshot operation with the dirty bit set (version 3), cleared once everything is on disk. */
async function underDirtyBit<T>(s: State, op: () => Promise<T>): Promise<T> {
  const h = s.header;
  const mark = h.version === 3 && (h.incompatibleFeatures & DIRTY) === 0n;
  if (mark) {
    h.incompatibleFeatures |= DIRTY;
    await writeIncompatible(s.file, h);
    await s.file.sync();
  }
  const result = await op();
  if (mark) {
    await s.file.sync();
    h.incompatibleFeatures &= ~DIRTY;
    await writeIncompatible(s.file, h);
    await s.file.sync();
  }
  return result;
}

/** Longest snapshot name, in UTF-8 bytes, that qemu-img keeps whole. */
const MAX_SNAPSHOT_NAME = 255;

export function createSnapshot(s: State, name: string): Promise<Snapshot> {
  if (name === '' || s.snapshots.some((snap) => snap.name === name)) {
    throw imageError('EIMG_BAD_OPTION', s.file.path, name === '' ? 'a snapshot needs a name' : `a snapshot named "${name}" already exists`);
  }
  // The format has room for 65535 bytes, but qemu keeps a name in 256 bytes (QEMUSnapshotInfo) and
  // would list, and look up, a longer one cut short.
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_SNAPSHOT_NAME) throw imageError('EIMG_BAD_OPTION', s.file.path, `snapshot name of ${bytes} bytes is longer than qemu's ${MAX_SNAPSHOT_NAME}`);
  return underDirtyBit(s, () => create(s, name));
}

export function applySnapshot(s: State, nameOrId: string): Promise<void> {
  return underDirtyBit(s, () => apply(s, nameOrId));
}

export function deleteSnapshot(s: State, nameOrId: string): Promise<void> {
  return underDirtyBit(s, () => remove(s, nameOrId));
}

async function create(s: State, name: string): Promise<Snapshot> {
  const { file, g, refcounts, tables } = s;
  const l1 = new Uint8Array(tables.l1Bytes());
  await adjustTree(s, l1, +1);
  await refcounts.writeBack();
  await file.sync();
  await updateCopiedFlags(s);
  const l1Clusters = Math.max(1, Math.ceil(l1.length / g.clusterSize));
  const l1Offset = await refcounts.allocate(l1Clusters);
  const padded = new Uint8Array(l1Clusters * g.clusterSize);
  padded.set(tables.l1Bytes()); // with the copied flags just cleared
  await file.write(padded, l1Offset);
  const now = Date.now();
  const id = String(s.snapshots.reduce((max, snap) => Math.max(max, Number(snap.id) || 0), 0) + 1);
  const snapshot: Snapshot = {
    l1TableOffset: l1Offset,
    l1Size: l1.length / 8,
    id,
    name,
    dateSec: Math.floor(now / 1000),
    dateNsec: (now % 1000) * 1e6,
    vmClockNsec: 0,
    vmStateSize: 0,
    diskSize: s.size,
    icount: 0,
    extraTail: new Uint8Array(0),
  };
  await writeTable(s, [...s.snapshots, snapshot]);
  return snapshot;
}

async function apply(s: State, nameOrId: string): Promise<void> {
  const { file, refcounts, tables, header: h } = s;
  const snap = find(s, nameOrId);
  if (snap.l1Size > h.l1Size) {
    throw imageError('EQCOW2_NOT_WRITABLE', file.path, `snapshot "${snap.name}" maps more than the current L1 table; applying it is not supported`);
  }
  const snapL1 = new Uint8Array(snap.l1Size * 8);
  await file.read(snapL1, snap.l1TableOffset);
  await adjustTree(s, snapL1, +1);
  await refcounts.writeBack();
  await file.sync();
  const old = new Uint8Array(tables.l1Bytes());
  const active = tables.l1Bytes();
  active.fill(0);
  active.set(snapL1);
  await file.write(active, h.l1TableOffset);
  if (snap.diskSize !== undefined && snap.diskSize !== s.size) {
    h.size = snap.diskSize;
    s.size = snap.diskSize;
    await writeSizeFields(file, h);
  }
  await file.sync();
  tables.dropCache();
  const freed = await adjustTree(s, old, -1);
  await refcounts.writeBack();
  await updateCopiedFlags(s);
  await file.punchClusters(freed, s.g.clusterSize); // what only the replaced state held
}

async function remove(s: State, nameOrId: string): Promise<void> {
  const { file, g, refcounts } = s;
  const snap = find(s, nameOrId);
  await writeTable(
    s,
    s.snapshots.filter((other) => other !== snap),
  );
  const l1 = new Uint8Array(snap.l1Size * 8);
  await file.read(l1, snap.l1TableOffset);
  const freed = await adjustTree(s, l1, -1);
  freed.push(...(await refcounts.release(snap.l1TableOffset, Math.max(1, Math.ceil(l1.length / g.clusterSize)))));
  await refcounts.writeBack();
  await file.sync();
  await updateCopiedFlags(s);
  // What only the snapshot held goes back to the file system (qemu's pass-discard-snapshot).
  await file.punchClusters(freed, g.clusterSize);
}

function find(s: State, nameOrId: string): Snapshot {
  const snap = s.snapshots.find((x) => x.id === nameOrId) ?? s.snapshots.find((x) => x.name === nameOrId);
  if (snap === undefined) throw imageError('EIMG_BAD_OPTION', s.file.path, `no snapshot "${nameOrId}"`);
  return snap;
}

/** Writes a new snapshot table, switches the header to it, then frees the old one. */
async function writeTable(s: State, snapshots: Snapshot[]): Promise<void> {
  const { file, g, refcounts, header: h } = s;
  const oldOffset = h.snapshotsOffset;
  const oldClusters = h.nbSnapshots === 0 ? 0 : Math.max(1, Math.ceil(encodeSnapshots(s.snapshots).length / g.clusterSize));
  const bytes = encodeSnapshots(snapshots);
  let offset = 0;
  if (snapshots.length > 0) {
    const clusters = Math.ceil(bytes.length / g.clusterSize);
    offset = await refcounts.allocate(clusters);
    const padded = new Uint8Array(clusters * g.clusterSize);
    padded.set(bytes);
    await file.write(padded, offset);
  }
  await refcounts.writeBack();
  await file.sync();
  h.nbSnapshots = snapshots.length;
  h.snapshotsOffset = offset;
  await writeSnapshotFields(file, h);
  await file.sync();
  if (oldClusters > 0) await refcounts.release(oldOffset, oldClusters);
  await refcounts.writeBack();
  s.snapshots = snapshots;
}

/**
 * Adds `addend` references to every L2 table and data cluster the L1 table reaches; returns the
 * clusters that a -1 left unreferenced.
 */
async function adjustTree(s: State, l1: Uint8Array, addend: 1 | -1): Promise<number[]> {
  const { file, g, refcounts } = s;
  const cs = g.clusterSize;
  const freed: number[] = [];
  const change = async (offset: number, clusters: number): Promise<void> => {
    if (addend > 0) await refcounts.retain(offset, clusters);
    else freed.push(...(await refcounts.release(offset, clusters)));
  };
  const l2 = new Uint8Array(cs);
  for (let i = 0; i < l1.length / 8; i++) {
    const { l2Offset } = readL1Entry(l1, i, cs, file.path);
    if (l2Offset === 0) continue;
    await file.read(l2, l2Offset);
    for (let j = 0; j < g.l2Entries; j++) {
      const entry = readL2Entry(l2, j, g, file.path);
      if (entry.kind === 'compressed') {
        const first = Math.floor(entry.hostOffset / cs);
        await change(first * cs, Math.floor((entry.hostOffset + entry.compressedSize - 1) / cs) - first + 1);
      } else if (entry.kind !== 'unallocated' && entry.hostOffset !== 0) {
        await change(entry.hostOffset, 1);
      }
    }
    await change(l2Offset, 1);
  }
  return freed;
}

/** Sets the active tree's copied flags to "refcount is one", writing the tables that change. */
async function updateCopiedFlags(s: State): Promise<void> {
  const { file, g, refcounts, tables, header: h } = s;
  const cs = g.clusterSize;
  const l1 = tables.l1Bytes();
  let l1Changed = false;
  const l2 = new Uint8Array(cs);
  for (let i = 0; i < l1.length / 8; i++) {
    const entry = readL1Entry(l1, i, cs, file.path);
    if (entry.l2Offset === 0) continue;
    const shared = (await refcounts.get(entry.l2Offset / cs)) !== 1;
    if (entry.copied === shared) {
      writeL1Entry(l1, i, { l2Offset: entry.l2Offset, copied: !shared });
      l1Changed = true;
    }
    await file.read(l2, entry.l2Offset);
    let changed = false;
    for (let j = 0; j < g.l2Entries; j++) {
      const e = readL2Entry(l2, j, g, file.path);
      if (e.kind === 'compressed' || e.kind === 'unallocated' || e.hostOffset === 0) continue;
      const copied = (await refcounts.get(e.hostOffset / cs)) === 1;
      if (e.copied !== copied) {
        writeL2Entry(l2, j, g, { ...e, copied });
        changed = true;
      }
    }
    // Written in place even when shared: the flags say the same thing to every tree that uses it.
    if (changed) await file.write(l2, entry.l2Offset);
  }
  if (l1Changed) await file.write(l1, h.l1TableOffset);
  await file.sync();
  tables.dropCache();
}
