// Resizing a qcow2 image. Growing past what the L1 table maps moves the L1 table to a new, larger run
// of clusters; the header switches to it (size, l1_size, l1_table_offset in one write) only once it is
// on disk, and the old table is freed after. Shrinking is refused while any cluster past the new end
// still holds data, so a resize never loses data silently. Space that appears on growth reads as
// zeros, even where an old cluster's tail or a longer backing file held something.
import { hex, imageError } from '../errors.js';
import { MAX_L1_BYTES } from '../format/header.js';
import { l1EntriesFor } from '../format/geometry.js';
import { readL2Entry } from '../format/l2-entry.js';
import { ClusterReader } from './cluster-reader.js';
import type { ClusterWriter } from './cluster-writer.js';
import { writeSizeFields } from './metadata.js';
import type { Refcounts } from './refcounts.js';
import type { Qcow2State } from './state.js';

export async function resizeQcow2(s: Qcow2State, writer: ClusterWriter, size: number): Promise<void> {
  const { file, g, header: h } = s;
  const refcounts = s.refcounts as Refcounts;
  if (!Number.isSafeInteger(size) || size < 0) throw imageError('EIMG_BAD_OPTION', file.path, `new size ${size} is not a non-negative integer`);
  const old = s.size;
  if (size === old) return;
  if (size < old) {
    if (h.nbSnapshots > 0) throw imageError('EIMG_BAD_OPTION', file.path, 'cannot shrink an image with internal snapshots');
    await checkNothingBeyond(s, size);
    h.size = size;
    await writeSizeFields(file, h);
    await file.sync();
    s.size = size;
    return;
  }
  const needed = l1EntriesFor(g, size);
  if (needed * 8 > MAX_L1_BYTES) {
    throw imageError('EIMG_BAD_OPTION', file.path, `a ${size}-byte disk needs an L1 table above qemu's 32 MiB limit`);
  }
  if (needed > h.l1Size) {
    const cs = g.clusterSize;
    const oldOffset = h.l1TableOffset;
    const oldClusters = Math.ceil((h.l1Size * 8) / cs);
    const clusters = Math.ceil((needed * 8) / cs);
    const offset = await refcounts.allocate(clusters);
    const l1 = new Uint8Array(clusters * cs);
    l1.set(s.tables.l1Bytes());
    await refcounts.writeBack();
    await file.write(l1, offset);
    await file.sync();
    h.size = size;
    h.l1Size = needed;
    h.l1TableOffset = offset;
    await writeSizeFields(file, h);
    await file.sync();
    s.tables.replaceL1(offset, l1.subarray(0, needed * 8));
    refcounts.moveReserved(oldOffset / cs, offset / cs, offset / cs + clusters);
    await refcounts.release(oldOffset, oldClusters);
    await refcounts.writeBack();
  } else {
    h.size = size;
    await writeSizeFields(file, h);
    await file.sync();
  }
  s.size = size;
  await zeroGrownSpace(s, writer, old, size);
}

/** Zeros what the grown range would otherwise show: the old last cluster's tail, a longer backing file. */
async function zeroGrownSpace(s: Qcow2State, writer: ClusterWriter, old: number, size: number): Promise<void> {
  const cs = s.g.clusterSize;
  let end = old;
  if (old % cs !== 0) {
    const entry = await entryOf(s, Math.floor(old / cs));
    if (entry.kind !== 'unallocated' && entry.kind !== 'zero') end = Math.min(size, Math.ceil(old / cs) * cs);
  }
  const backingSize = s.backing?.size ?? 0;
  if (backingSize > old) end = Math.max(end, Math.min(size, backingSize));
  if (end > old) await writer.zero(old, end - old, 'zero');
}

async function entryOf(s: Qcow2State, cluster: number): Promise<ReturnType<typeof readL2Entry>> {
  const table = await s.tables.table(Math.floor(cluster / s.g.l2Entries));
  return table === undefined ? { kind: 'unallocated' } : readL2Entry(table, cluster % s.g.l2Entries, s.g, s.file.path);
}

/** Refuses to shrink while a cluster past the new end holds data, or the cut cluster's tail is not zero. */
async function checkNothingBeyond(s: Qcow2State, size: number): Promise<void> {
  const { g } = s;
  const cs = g.clusterSize;
  const refuse = (cluster: number): never => {
    throw imageError(
      'EIMG_WOULD_LOSE_DATA',
      s.file.path,
      `cannot shrink to ${size} bytes: guest offset ${hex(Math.max(size, cluster * cs))} holds data (discard or zero it first)`,
      { size, offset: Math.max(size, cluster * cs) },
    );
  };
  const firstGone = Math.ceil(size / cs);
  const lastCluster = Math.ceil(s.size / cs);
  for (let cluster = firstGone; cluster < lastCluster; ) {
    const l1Index = Math.floor(cluster / g.l2Entries);
    const table = await s.tables.table(l1Index);
    const tableEnd = Math.min(lastCluster, (l1Index + 1) * g.l2Entries);
    if (table !== undefined) {
      for (let c = cluster; c < tableEnd; c++) {
        const entry = readL2Entry(table, c % g.l2Entries, g, s.file.path);
        if (entry.kind !== 'unallocated' && !(entry.kind === 'zero' && entry.hostOffset === 0)) refuse(c);
      }
    }
    cluster = tableEnd;
  }
  if (size % cs !== 0) {
    const tail = new Uint8Array(Math.min(s.size, Math.ceil(size / cs) * cs) - size);
    const backing = s.backing;
    // Backing-file bytes do not count as data of this image: they stay where they are.
    const entry = await entryOf(s, Math.floor(size / cs));
    if (entry.kind === 'unallocated' && backing !== undefined) return;
    await readDisk(s, tail, size);
    if (tail.some((b) => b !== 0)) refuse(Math.floor(size / cs));
  }
}

async function readDisk(s: Qcow2State, buf: Uint8Array, offset: number): Promise<void> {
  await new ClusterReader(s).read(buf, offset);
}
