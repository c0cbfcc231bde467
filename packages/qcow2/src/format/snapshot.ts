// The internal snapshot table (qcow2.txt, "Snapshots"): one variable-length entry per snapshot, each
// naming its own copy of the L1 table. Parsed and encoded without touching a file; extra data fields
// newer than this code are kept verbatim so that rewriting the table preserves them.
import { hex, imageError } from '../errors.js';
import { readU16, readU32, readU64Number, writeU16, writeU32, writeU64 } from './endian.js';

export interface Snapshot {
  l1TableOffset: number;
  l1Size: number;
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  vmClockNsec: number;
  vmStateSize: number;
  /** Guest disk size when the snapshot was taken (v3 extra data); undefined in v2 entries without it. */
  diskSize: number | undefined;
  /** Instruction count, -1 when not recorded. */
  icount: number;
  /** Extra data bytes past the fields above, kept as they were. */
  extraTail: Uint8Array;
}

const FIXED = 40;
/** qemu's QCOW_MAX_SNAPSHOTS: more entries mean a corrupt or hostile table. */
export const MAX_SNAPSHOTS = 65536;
export const MAX_SNAPSHOT_EXTRA = 1024;

/** Parses `count` entries from buf (the table's bytes); length is the bytes they took. */
export function parseSnapshots(buf: Uint8Array, count: number, clusterSize: number, path: string): { list: Snapshot[]; length: number } {
  if (count > MAX_SNAPSHOTS) throw imageError('EQCOW2_BAD_HEADER', path, `nb_snapshots ${count} is above qemu's limit of ${MAX_SNAPSHOTS}`);
  const snapshots: Snapshot[] = [];
  let at = 0;
  const need = (bytes: number, what: string): void => {
    if (at + bytes > buf.length) {
      throw imageError('EQCOW2_BAD_HEADER', path, `snapshot table ends inside ${what} of entry ${snapshots.length}`, { truncated: true });
    }
  };
  for (let i = 0; i < count; i++) {
    need(FIXED, 'the fixed fields');
    const number = (offset: number, field: string): number => {
      const value = readU64Number(buf, at + offset);
      if (value === undefined) throw imageError('EQCOW2_BAD_HEADER', path, `snapshot ${i} ${field} is beyond 2^53`);
      return value;
    };
    const l1TableOffset = number(0, 'l1_table_offset');
    const l1Size = readU32(buf, at + 8);
    const idSize = readU16(buf, at + 12);
    const nameSize = readU16(buf, at + 14);
    const extraSize = readU32(buf, at + 36);
    if (l1TableOffset % clusterSize !== 0) {
      throw imageError('EQCOW2_BAD_OFFSET', path, `snapshot ${i} L1 table at ${hex(l1TableOffset)} is not cluster-aligned`);
    }
    if (extraSize > MAX_SNAPSHOT_EXTRA) throw imageError('EQCOW2_BAD_HEADER', path, `snapshot ${i} has ${extraSize} bytes of extra data`);
    const snapshot: Snapshot = {
      l1TableOffset,
      l1Size,
      id: '',
      name: '',
      dateSec: readU32(buf, at + 16),
      dateNsec: readU32(buf, at + 20),
      vmClockNsec: number(24, 'vm_clock_nsec'),
      vmStateSize: readU32(buf, at + 32),
      diskSize: undefined,
      icount: -1,
      extraTail: new Uint8Array(0),
    };
    at += FIXED;
    need(extraSize + idSize + nameSize, 'its extra data and names');
    const extra = buf.subarray(at, at + extraSize);
    if (extraSize >= 8) snapshot.vmStateSize = Math.max(snapshot.vmStateSize, readU64Number(extra, 0) ?? 0);
    if (extraSize >= 16) snapshot.diskSize = readU64Number(extra, 8);
    if (extraSize >= 24) {
      const icount = readU64Number(extra, 16);
      snapshot.icount = icount === undefined ? -1 : icount;
    }
    if (extraSize > 24) snapshot.extraTail = extra.slice(24);
    at += extraSize;
    snapshot.id = Buffer.from(buf.subarray(at, at + idSize)).toString('utf8');
    at += idSize;
    snapshot.name = Buffer.from(buf.subarray(at, at + nameSize)).toString('utf8');
    at += nameSize;
    at = (at + 7) & ~7;
    snapshots.push(snapshot);
  }
  return { list: snapshots, length: at };
}

/** Bytes the snapshot table starting at offset 0 takes: what parseSnapshots consumed. */
export function encodeSnapshots(snapshots: readonly Snapshot[]): Uint8Array {
  const parts = snapshots.map((s) => {
    const id = Buffer.from(s.id, 'utf8');
    const name = Buffer.from(s.name, 'utf8');
    const extraSize = 24 + s.extraTail.length;
    const size = (FIXED + extraSize + id.length + name.length + 7) & ~7;
    const out = new Uint8Array(size);
    writeU64(out, 0, s.l1TableOffset);
    writeU32(out, 8, s.l1Size);
    writeU16(out, 12, id.length);
    writeU16(out, 14, name.length);
    writeU32(out, 16, s.dateSec);
    writeU32(out, 20, s.dateNsec);
    writeU64(out, 24, s.vmClockNsec);
    writeU32(out, 32, Math.min(s.vmStateSize, 0xffffffff));
    writeU32(out, 36, extraSize);
    writeU64(out, FIXED, s.vmStateSize);
    writeU64(out, FIXED + 8, s.diskSize ?? 0);
    writeU64(out, FIXED + 16, s.icount < 0 ? -1n : s.icount);
    out.set(s.extraTail, FIXED + 24);
    out.set(id, FIXED + extraSize);
    out.set(name, FIXED + extraSize + id.length);
    return out;
  });
  return Buffer.concat(parts);
}
