// Consistency check and repair of a qcow2 file, as `qemu-img check` does it: count every reference to
// every host cluster (header, L1/L2 tables of the image and its snapshots, data, snapshot table,
// refcount structure), compare with the stored refcounts, and check the "copied" flags. A stored count
// above the references is a leak (wasted space); below is a corruption (a later allocation could
// overwrite live data). Repair fixes leaks in place; 'all' rebuilds the refcount structure at the end
// of the file when counts are too low, then fixes the copied flags. Messages match qemu's.
import { hex, imageError } from '../errors.js';
import { readU64 } from '../format/endian.js';
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY, hasBit } from '../format/features.js';
import { REFTABLE_FIELDS_OFFSET } from '../format/header.js';
import { readL1Entry, writeL1Entry } from '../format/l1-entry.js';
import { readL2Entry, writeL2Entry } from '../format/l2-entry.js';
import { planRefcountStructure } from '../format/rebuild.js';
import { readRefcount, readReftableEntry, writeRefcount } from '../format/refcount.js';
import { writeU32, writeU64 } from '../format/endian.js';
import { ImageFile } from './file.js';
import { type Metadata, readMetadata, readSnapshots, writeIncompatible } from './metadata.js';

export type RepairMode = 'leaks' | 'all';

export interface CheckOptions {
  repair?: RepairMode;
}

/** What `qemu-img check --output json` reports, under its field names in checkJson(). */
export interface CheckResult {
  filename: string;
  format: 'qcow2';
  checkErrors: number;
  imageEndOffset: number;
  corruptions: number;
  leaks: number;
  corruptionsFixed: number;
  leaksFixed: number;
  totalClusters: number;
  allocatedClusters: number;
  fragmentedClusters: number;
  compressedClusters: number;
  /** One line per problem found (and repair made), worded as qemu-img writes them to stderr. */
  messages: string[];
}

interface CopiedRef {
  /** Byte offset in the file of the 8-byte entry, and where it lives in memory. */
  table: Uint8Array;
  tableOffset: number;
  index: number;
  kind: 'l1' | 'l2';
  host: number;
  copied: boolean;
}

interface Scan {
  refs: Uint32Array;
  /** Refcount table and block clusters, counted separately: a rebuild replaces them. */
  structure: number[];
  stored: Uint32Array;
  blocks: Map<number, { offset: number; bytes: Uint8Array }>;
  copied: CopiedRef[];
  /** Problems other than refcount mismatches (bad entries, tables past the end of the file). */
  structural: string[];
  refcountStructureBroken: boolean;
  allocated: number;
  fragmented: number;
  compressed: number;
}

/** Checks (and with `repair`, repairs) the qcow2 image at path. */
export async function check(path: string, options: CheckOptions = {}): Promise<CheckResult> {
  const file = await ImageFile.open(path, options.repair === undefined);
  try {
    const meta = await readMetadata(file);
    return await checkFile(file, meta, options.repair);
  } finally {
    await file.close();
  }
}

/** The check on an open file; also what Qcow2Image runs to repair a dirty image before writing. */
export async function checkFile(file: ImageFile, meta: Metadata, repair: RepairMode | undefined): Promise<CheckResult> {
  const first = await scan(file, meta);
  const result = summarize(file, meta, first);
  if (repair === undefined || (result.corruptions === 0 && result.leaks === 0 && !flagsToClear(meta, repair))) return result;
  const messages = [...result.messages];
  if (repair === 'all' && (first.refcountStructureBroken || countLow(first) > 0)) {
    await rebuild(file, meta, first, messages);
  } else if (result.leaks > 0) {
    await fixLeaks(file, first, meta, messages);
  }
  const afterRefcounts = await scan(file, meta);
  if (repair === 'all') await fixCopied(file, meta, afterRefcounts);
  const final = summarize(file, meta, await scan(file, meta));
  if (repair === 'all' && final.corruptions === 0) await clearFlags(file, meta);
  return {
    ...final,
    corruptionsFixed: Math.max(0, result.corruptions - final.corruptions),
    leaksFixed: Math.max(0, result.leaks - final.leaks),
    messages: [...messages, ...final.messages],
  };
}

/** Clusters whose stored refcount is below their references: what only a rebuild repairs. */
function countLow(s: Scan): number {
  let low = 0;
  for (let c = 0; c < s.refs.length; c++) if (s.stored[c] < s.refs[c]) low++;
  return low;
}

function flagsToClear(meta: Metadata, repair: RepairMode): boolean {
  const h = meta.header;
  return repair === 'all' && (hasBit(h.incompatibleFeatures, INCOMPAT_DIRTY) || hasBit(h.incompatibleFeatures, INCOMPAT_CORRUPT));
}

async function clearFlags(file: ImageFile, meta: Metadata): Promise<void> {
  const h = meta.header;
  if (!flagsToClear(meta, 'all')) return;
  await file.sync();
  h.incompatibleFeatures &= ~((1n << BigInt(INCOMPAT_DIRTY)) | (1n << BigInt(INCOMPAT_CORRUPT)));
  await writeIncompatible(file, h);
  await file.sync();
}

async function scan(file: ImageFile, meta: Metadata): Promise<Scan> {
  const { header: h, g } = meta;
  const cs = g.clusterSize;
  const fileClusters = Math.ceil(file.length / cs);
  const s: Scan = {
    refs: new Uint32Array(fileClusters),
    structure: [],
    stored: new Uint32Array(fileClusters),
    blocks: new Map(),
    copied: [],
    structural: [],
    refcountStructureBroken: false,
    allocated: 0,
    fragmented: 0,
    compressed: 0,
  };
  const inc = (offset: number, clusters: number, what: string): boolean => {
    const firstCluster = Math.floor(offset / cs);
    if (firstCluster + clusters > fileClusters) {
      s.structural.push(`ERROR ${what} at offset ${hex(offset)} is beyond the end of the image file`);
      return false;
    }
    for (let c = firstCluster; c < firstCluster + clusters; c++) s.refs[c]++;
    return true;
  };
  inc(0, 1, 'header');
  await countL1(file, meta, s, inc, h.l1TableOffset, h.l1Size, true);
  const snapshots = await readSnapshots(file, h, g).catch((error: unknown) => {
    s.structural.push(`ERROR snapshot table: ${error instanceof Error ? error.message : String(error)}`);
    return { list: [], length: 0 };
  });
  if (h.nbSnapshots > 0) {
    inc(h.snapshotsOffset, Math.max(1, Math.ceil(snapshots.length / cs)), 'snapshot table');
    for (const snap of snapshots.list) await countL1(file, meta, s, inc, snap.l1TableOffset, snap.l1Size, false);
  }
  // The refcount structure: counted into refs like everything else, and remembered for a rebuild.
  const tableClusters = h.refcountTableClusters;
  const tableStart = h.refcountTableOffset / cs;
  if (inc(h.refcountTableOffset, tableClusters, 'refcount table')) {
    for (let c = tableStart; c < tableStart + tableClusters; c++) s.structure.push(c);
  } else {
    s.refcountStructureBroken = true;
    return s;
  }
  const table = new Uint8Array(tableClusters * cs);
  await file.read(table, h.refcountTableOffset);
  const E = g.refcountBlockEntries;
  for (let ti = 0; ti < table.length / 8; ti++) {
    let offset: number;
    try {
      offset = readReftableEntry(table, ti, cs, file.path);
    } catch (error) {
      s.structural.push(`ERROR refcount table entry ${ti}: ${(error as Error).message}`);
      s.refcountStructureBroken = true;
      continue;
    }
    if (offset === 0) continue;
    if (!inc(offset, 1, `refcount block ${ti}`)) {
      s.refcountStructureBroken = true;
      continue;
    }
    s.structure.push(offset / cs);
    const bytes = new Uint8Array(cs);
    await file.read(bytes, offset);
    s.blocks.set(ti, { offset, bytes });
    for (let k = 0; k < E; k++) {
      const c = ti * E + k;
      let value: number;
      try {
        value = readRefcount(bytes, k, g.refcountOrder, file.path);
      } catch {
        value = 0xffffffff;
      }
      // Like qemu, counts past the end of the file are not compared: nothing can reference them.
      if (c < fileClusters) s.stored[c] = Math.min(value, 0xffffffff);
      else break;
    }
  }
  return s;
}

type Inc = (offset: number, clusters: number, what: string) => boolean;

async function countL1(file: ImageFile, meta: Metadata, s: Scan, inc: Inc, l1Offset: number, l1Size: number, active: boolean): Promise<void> {
  const { g, header: h } = meta;
  const cs = g.clusterSize;
  if (!inc(l1Offset, Math.ceil((l1Size * 8) / cs), active ? 'L1 table' : 'snapshot L1 table')) return;
  const l1 = new Uint8Array(l1Size * 8);
  await file.read(l1, l1Offset);
  const totalClusters = Math.ceil(h.size / cs);
  for (let i = 0; i < l1Size; i++) {
    let l2Offset: number;
    let copied: boolean;
    try {
      ({ l2Offset, copied } = readL1Entry(l1, i, cs, file.path));
    } catch (error) {
      s.structural.push(`ERROR ${(error as Error).message}`);
      continue;
    }
    if (l2Offset === 0) continue;
    if (!inc(l2Offset, 1, `L2 table of L1 entry ${i}`)) continue;
    if (active) s.copied.push({ table: l1, tableOffset: l1Offset, index: i, kind: 'l1', host: l2Offset, copied });
    const l2 = new Uint8Array(cs);
    await file.read(l2, l2Offset);
    let nextContiguous = 0;
    for (let j = 0; j < g.l2Entries; j++) {
      let entry;
      try {
        entry = readL2Entry(l2, j, g, file.path);
      } catch (error) {
        s.structural.push(`ERROR ${(error as Error).message} (L2 table at ${hex(l2Offset)})`);
        continue;
      }
      const guest = i * g.l2Entries + j;
      const counted = active && guest < totalClusters;
      switch (entry.kind) {
        case 'unallocated':
          break;
        case 'compressed': {
          // compressedSize runs to the end of the last sector the data touches, as qemu counts it.
          const firstCluster = Math.floor(entry.hostOffset / cs);
          const lastCluster = Math.floor((entry.hostOffset + entry.compressedSize - 1) / cs);
          inc(firstCluster * cs, lastCluster - firstCluster + 1, `compressed cluster of guest cluster ${guest}`);
          if (counted) {
            s.allocated++;
            s.compressed++;
            s.fragmented++; // qemu: compressed clusters are fragmented by nature
          }
          break;
        }
        default: {
          if (meta.dataFileName !== undefined) {
            // Data clusters live in the external data file, which has no refcounts (qemu counts them as 1).
            if (counted && entry.kind !== 'zero') s.allocated++;
            break;
          }
          if (entry.hostOffset === 0) break;
          if (!inc(entry.hostOffset, 1, `data cluster of guest cluster ${guest}`)) break;
          if (active) s.copied.push({ table: l2, tableOffset: l2Offset, index: j, kind: 'l2', host: entry.hostOffset, copied: entry.copied });
          if (counted) {
            s.allocated++;
            if (nextContiguous !== 0 && entry.hostOffset !== nextContiguous) s.fragmented++;
            nextContiguous = entry.hostOffset + cs;
          }
        }
      }
    }
  }
}

function summarize(file: ImageFile, meta: Metadata, s: Scan): CheckResult {
  const { g, header: h } = meta;
  const messages = [...s.structural];
  let corruptions = s.structural.length;
  let leaks = 0;
  let highest = -1;
  for (let c = 0; c < s.refs.length; c++) {
    const stored = s.stored[c];
    const refs = s.refs[c];
    if (stored > 0 || refs > 0) highest = c;
    if (stored === refs) continue;
    if (stored < refs) {
      corruptions++;
      messages.push(`ERROR cluster ${c} refcount=${stored} reference=${refs}`);
    } else {
      leaks++;
      messages.push(`Leaked cluster ${c} refcount=${stored} reference=${refs}`);
    }
  }
  for (const ref of s.copied) {
    const refcount = s.stored[ref.host / g.clusterSize] ?? 0;
    if (ref.copied === (refcount === 1)) continue;
    // A clear flag on a refcount-1 cluster only costs a copy; qemu still counts it, as do we.
    corruptions++;
    const raw = readU64(ref.table, ref.index * (ref.kind === 'l1' ? 8 : g.l2EntrySize)).toString(16).padStart(16, '0');
    messages.push(
      ref.kind === 'l1'
        ? `ERROR OFLAG_COPIED L2 cluster: l1_index=${ref.index} l1_entry=${raw} refcount=${refcount}`
        : `ERROR OFLAG_COPIED data cluster: l2_entry=${raw} refcount=${refcount}`,
    );
  }
  return {
    filename: file.path,
    format: 'qcow2',
    checkErrors: 0,
    imageEndOffset: (highest + 1) * g.clusterSize,
    corruptions,
    leaks,
    corruptionsFixed: 0,
    leaksFixed: 0,
    totalClusters: Math.ceil(h.size / g.clusterSize),
    allocatedClusters: s.allocated,
    fragmentedClusters: s.fragmented,
    compressedClusters: s.compressed,
    messages,
  };
}

/** Lowers stored counts to the references, in the blocks that hold them. */
async function fixLeaks(file: ImageFile, s: Scan, meta: Metadata, messages: string[]): Promise<void> {
  const { g } = meta;
  const E = g.refcountBlockEntries;
  const dirty = new Set<number>();
  const lower = (c: number, stored: number, refs: number): void => {
    const block = s.blocks.get(Math.floor(c / E));
    if (block === undefined) return;
    writeRefcount(block.bytes, c % E, g.refcountOrder, refs);
    dirty.add(Math.floor(c / E));
    messages.push(`Repairing cluster ${c} refcount=${stored} reference=${refs}`);
  };
  for (let c = 0; c < s.refs.length; c++) if (s.stored[c] > s.refs[c]) lower(c, s.stored[c], s.refs[c]);
  for (const ti of dirty) {
    const block = s.blocks.get(ti)!;
    await file.write(block.bytes, block.offset);
  }
  await file.sync();
}

/** Writes a new refcount structure past the end of the file and switches the header to it. */
async function rebuild(file: ImageFile, meta: Metadata, s: Scan, messages: string[]): Promise<void> {
  const { g, header: h } = meta;
  const refs = Uint32Array.from(s.refs);
  for (const c of s.structure) refs[c]--;
  const structure = new Set(s.structure);
  messages.push('Rebuilding refcount structure');
  for (let c = 0; c < refs.length; c++) {
    if (s.stored[c] !== refs[c] && !structure.has(c)) {
      messages.push(`Repairing cluster ${c} refcount=${s.stored[c]} reference=${refs[c]}`);
    }
  }
  const plan = planRefcountStructure(refs, Math.ceil(file.length / g.clusterSize), g);
  if (plan.overflows.length > 0) {
    throw imageError('EQCOW2_BAD_REFCOUNT', file.path, `cluster ${plan.overflows[0]} has more references than ${g.refcountBits}-bit refcounts hold`);
  }
  for (const region of plan.regions) await file.write(region.bytes, region.offset);
  await file.sync();
  const fields = new Uint8Array(12);
  writeU64(fields, 0, plan.tableOffset);
  writeU32(fields, 8, plan.tableClusters);
  await file.write(fields, REFTABLE_FIELDS_OFFSET);
  await file.sync();
  h.refcountTableOffset = plan.tableOffset;
  h.refcountTableClusters = plan.tableClusters;
}

/** Sets each active L1/L2 entry's copied flag to whether its cluster's refcount is exactly one. */
async function fixCopied(file: ImageFile, meta: Metadata, s: Scan): Promise<void> {
  const { g } = meta;
  let changed = false;
  for (const ref of s.copied) {
    const want = s.stored[ref.host / g.clusterSize] === 1;
    if (ref.copied === want) continue;
    if (ref.kind === 'l1') {
      writeL1Entry(ref.table, ref.index, { l2Offset: ref.host, copied: want });
      await file.write(ref.table.subarray(ref.index * 8, ref.index * 8 + 8), ref.tableOffset + ref.index * 8);
    } else {
      const entry = readL2Entry(ref.table, ref.index, g, file.path);
      if (entry.kind === 'normal' || entry.kind === 'zero' || entry.kind === 'subclusters') {
        writeL2Entry(ref.table, ref.index, g, { ...entry, copied: want });
        const at = ref.index * g.l2EntrySize;
        await file.write(ref.table.subarray(at, at + 8), ref.tableOffset + at);
      }
    }
    changed = true;
  }
  if (changed) await file.sync();
}

/** The JSON object `qemu-img check --output json` prints, zero counts left out as qemu does. */
export function checkJson(r: CheckResult): Record<string, unknown> {
  const out: Record<string, unknown> = { 'image-end-offset': r.imageEndOffset, 'total-clusters': r.totalClusters };
  if (r.corruptions > 0) out.corruptions = r.corruptions;
  if (r.leaks > 0) out.leaks = r.leaks;
  out['check-errors'] = r.checkErrors;
  if (r.corruptionsFixed > 0) out['corruptions-fixed'] = r.corruptionsFixed;
  if (r.leaksFixed > 0) out['leaks-fixed'] = r.leaksFixed;
  if (r.allocatedClusters > 0) out['allocated-clusters'] = r.allocatedClusters;
  if (r.fragmentedClusters > 0) out['fragmented-clusters'] = r.fragmentedClusters;
  if (r.compressedClusters > 0) out['compressed-clusters'] = r.compressedClusters;
  out.filename = r.filename;
  out.format = r.format;
  return out;
}

/** The human-readable summary qemu-img check prints on stdout (messages go to stderr). */
export function formatCheck(r: CheckResult): string {
  const lines: string[] = [];
  if (r.corruptionsFixed > 0 || r.leaksFixed > 0) {
    lines.push('The following inconsistencies were found and repaired:', '', `    ${r.leaksFixed} leaked clusters`, `    ${r.corruptionsFixed} corruptions`, '', 'Double checking the fixed image now...');
  }
  if (r.corruptions === 0 && r.leaks === 0 && r.checkErrors === 0) lines.push('No errors were found on the image.');
  if (r.corruptions > 0) {
    lines.push('', `${r.corruptions} errors were found on the image.`, 'Data may be corrupted, or further writes to the image may corrupt it.');
  }
  if (r.leaks > 0) lines.push('', `${r.leaks} leaked clusters were found on the image.`, 'This means waste of disk space, but no harm to data.');
  if (r.allocatedClusters > 0) {
    const pct = (n: number, of: number): string => ((n / of) * 100).toFixed(2);
    const a = r.allocatedClusters;
    lines.push(
      `${a}/${r.totalClusters} = ${pct(a, r.totalClusters)}% allocated, ${pct(r.fragmentedClusters, a)}% fragmented, ${pct(r.compressedClusters, a)}% compressed clusters`,
    );
  }
  lines.push(`Image end offset: ${r.imageEndOffset}`);
  return `${lines.join('\n')}\n`;
}

/** qemu-img check's exit status: 0 clean, 1 check not completed, 2 corruptions, 3 leaks only. */
export function checkExitStatus(r: CheckResult): number {
  if (r.checkErrors > 0) return 1;
  if (r.corruptions > 0) return 2;
  if (r.leaks > 0) return 3;
  return 0;
}
