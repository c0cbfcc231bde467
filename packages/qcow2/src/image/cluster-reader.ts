// Executes guest reads of a qcow2 image: walks L1 -> L2 for each cluster, turns entries into segments
// (format/segment.ts), and performs them, merging runs of host-contiguous data and of backing-file bytes
// into single reads, so a freshly converted image reads at file speed whatever its cluster size.
import { constants, inflateRawSync } from 'node:zlib';
import { hex, imageError } from '../errors.js';
import { readL2Entry, type L2Entry } from '../format/l2-entry.js';
import { clusterSegments } from '../format/segment.js';
import { type Extent, appendExtent } from './image.js';
import type { Qcow2State } from './state.js';

const UNALLOCATED: L2Entry = { kind: 'unallocated' };

/** A run of buf bytes waiting to be read from one place. */
interface Pending {
  source: 'data' | 'backing';
  bufStart: number;
  length: number;
  /** Host offset for data, guest offset for backing. */
  from: number;
}

export class ClusterReader {
  private lastCompressed: { hostOffset: number; bytes: Uint8Array } | undefined;

  constructor(private readonly s: Qcow2State) {}

  /** Forgets decompressed data: a write may have freed and reused its host clusters. */
  invalidate(): void {
    this.lastCompressed = undefined;
  }

  /** Reads [offset, offset + buf.length), which the caller has checked lies inside the disk. */
  async read(buf: Uint8Array, offset: number): Promise<void> {
    const { g, file } = this.s;
    const end = offset + buf.length;
    let pending: Pending | undefined;
    const flush = async (): Promise<void> => {
      if (pending !== undefined) await this.perform(buf, pending);
      pending = undefined;
    };
    let at = offset;
    while (at < end) {
      const l1Index = Math.floor(at / g.l1Span);
      const table = await this.s.tables.table(l1Index);
      const spanEnd = Math.min(end, (l1Index + 1) * g.l1Span);
      while (at < spanEnd) {
        const cluster = Math.floor(at / g.clusterSize);
        const inCluster = at - cluster * g.clusterSize;
        const length = Math.min(spanEnd, (cluster + 1) * g.clusterSize) - at;
        const entry = table === undefined ? UNALLOCATED : readL2Entry(table, cluster % g.l2Entries, g, file.path);
        let bufPos = at - offset;
        for (const seg of clusterSegments(entry, g, inCluster, length)) {
          if (seg.source === 'zero') {
            buf.fill(0, bufPos, bufPos + seg.length);
          } else if (seg.source === 'compressed') {
            const bytes = await this.decompress(seg.hostOffset, seg.compressedSize);
            buf.set(bytes.subarray(seg.inCluster, seg.inCluster + seg.length), bufPos);
          } else {
            const from = seg.source === 'data' ? seg.hostOffset : offset + bufPos;
            if (seg.source === 'data' && from >= file.length) {
              throw imageError('EQCOW2_BAD_L2_ENTRY', file.path, `guest cluster ${cluster} maps to ${hex(from)}, past the end of the file`, {
                cluster,
                offset: from,
              });
            }
            if (pending !== undefined && pending.source === seg.source && pending.from + pending.length === from && pending.bufStart + pending.length === bufPos) {
              pending.length += seg.length;
            } else {
              await flush();
              pending = { source: seg.source, bufStart: bufPos, length: seg.length, from };
            }
          }
          bufPos += seg.length;
        }
        at += length;
      }
    }
    await flush();
  }

  /** This image's own extents over [offset, offset + length): see Image.status. */
  async status(offset: number, length: number): Promise<Extent[]> {
    const { g, file } = this.s;
    const extents: Extent[] = [];
    const end = offset + length;
    let at = offset;
    while (at < end) {
      const l1Index = Math.floor(at / g.l1Span);
      const table = await this.s.tables.table(l1Index);
      const spanEnd = Math.min(end, (l1Index + 1) * g.l1Span);
      if (table === undefined) {
        appendExtent(extents, { start: at, length: spanEnd - at, kind: 'unallocated' });
        at = spanEnd;
        continue;
      }
      while (at < spanEnd) {
        const cluster = Math.floor(at / g.clusterSize);
        const inCluster = at - cluster * g.clusterSize;
        const n = Math.min(spanEnd, (cluster + 1) * g.clusterSize) - at;
        const entry = readL2Entry(table, cluster % g.l2Entries, g, file.path);
        let start = at;
        for (const seg of clusterSegments(entry, g, inCluster, n)) {
          const kind = seg.source === 'backing' ? 'unallocated' : seg.source === 'zero' ? 'zero' : 'data';
          appendExtent(extents, { start, length: seg.length, kind, ...(seg.source === 'data' ? { offset: seg.hostOffset } : {}) });
          start += seg.length;
        }
        at += n;
      }
    }
    return extents;
  }

  private async perform(buf: Uint8Array, p: Pending): Promise<void> {
    const target = buf.subarray(p.bufStart, p.bufStart + p.length);
    if (p.source === 'data') {
      // A cluster cut short by the end of the file reads its missing tail as zeros, as qemu does.
      const n = await this.s.file.read(target, p.from);
      target.fill(0, n);
      return;
    }
    const backing = this.s.backing;
    const available = backing === undefined ? 0 : Math.max(0, Math.min(p.length, backing.size - p.from));
    if (available > 0) await backing!.read(target.subarray(0, available), p.from);
    target.fill(0, available); // beyond a shorter backing file (or with none) the disk reads zeros
  }

  private async decompress(hostOffset: number, compressedSize: number): Promise<Uint8Array> {
    if (this.lastCompressed?.hostOffset === hostOffset) return this.lastCompressed.bytes;
    const { file, g } = this.s;
    if (hostOffset >= file.length) {
      throw imageError('EQCOW2_BAD_COMPRESSED', file.path, `compressed cluster at ${hex(hostOffset)} is past the end of the file`, {
        offset: hostOffset,
      });
    }
    // The last sector of the last compressed cluster may be cut by the end of the file.
    const input = new Uint8Array(Math.min(compressedSize, file.length - hostOffset));
    await file.read(input, hostOffset);
    let bytes: Uint8Array;
    try {
      // Sync flush accepts a stream that stops once a whole cluster is out, as qemu's decompressor does.
      bytes = inflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: g.clusterSize });
    } catch (cause) {
      throw imageError('EQCOW2_BAD_COMPRESSED', file.path, `compressed cluster at ${hex(hostOffset)} does not inflate`, { offset: hostOffset }, cause);
    }
    if (bytes.length !== g.clusterSize) {
      throw imageError('EQCOW2_BAD_COMPRESSED', file.path, `compressed cluster at ${hex(hostOffset)} inflates to ${bytes.length} bytes, not ${g.clusterSize}`, {
        offset: hostOffset,
      });
    }
    this.lastCompressed = { hostOffset, bytes };
    return bytes;
  }
}
