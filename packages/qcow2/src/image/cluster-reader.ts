// Executes guest reads of a qcow2 image: walks L1 -> L2 for each cluster, turns entries into segments
// (format/segment.ts), and performs them, merging runs of host-contiguous data and of backing-file bytes
// into single reads, so a freshly converted image reads at file speed whatever its cluster size.
// Requests spanning many clusters are mapped in one call to @isola/wasm's batch L2 mapper (3-8x the
// per-entry path on whole tables, bench/qcow2/l2-map.mjs); entries it leaves aside (compressed, mixed
// subclusters, invalid) and small requests go through readL2Entry, which owns the error messages.
// Data clusters are read from the external data file when the image has one. @isola/wasm is loaded on
// the first large request: importing it (with its x86 tables) costs ~50 ms of every command's start.
import { constants, inflateRawSync } from 'node:zlib';
import { hex, imageError } from '../errors.js';
import { zstdDecompressor } from '../format/features.js';
import { COMPRESSION_ZSTD } from '../format/header.js';
import { readL2Entry, type L2Entry } from '../format/l2-entry.js';
import { type Segment, clusterSegments } from '../format/segment.js';
import { zstdFrameLength } from '../format/zstd-frame.js';
import { type Extent, appendExtent } from './image.js';
import type { Qcow2State } from './state.js';

const UNALLOCATED: L2Entry = { kind: 'unallocated' };
/** Requests spanning this many clusters of one L2 table are mapped in a batch (WASM); smaller ones entry by entry. */
const BATCH_MIN = 16;

type L2Mapper = (typeof import('@isola/wasm'))['mapL2Entries'];
let mapper: Promise<L2Mapper> | undefined;
/** @isola/wasm's batch mapper, imported once, on first use. */
function loadMapper(): Promise<L2Mapper> {
  mapper ??= import('@isola/wasm').then((m) => m.mapL2Entries);
  return mapper;
}

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
    const cs = g.clusterSize;
    const end = offset + buf.length;
    let pending: Pending | undefined;
    const flush = async (): Promise<void> => {
      if (pending !== undefined) await this.perform(buf, pending);
      pending = undefined;
    };
    /** Performs one segment that covers guest bytes from `at`; data and backing runs wait to be merged. */
    const take = async (seg: Segment, at: number): Promise<void> => {
      const bufPos = at - offset;
      if (seg.source === 'zero') {
        buf.fill(0, bufPos, bufPos + seg.length);
        return;
      }
      if (seg.source === 'compressed') {
        const bytes = await this.decompress(seg.hostOffset, seg.compressedSize);
        buf.set(bytes.subarray(seg.inCluster, seg.inCluster + seg.length), bufPos);
        return;
      }
      const from = seg.source === 'data' ? seg.hostOffset : at;
      // A cluster must start inside the file; its tail may be cut off (it reads as zeros, as in qemu).
      // A data file may be shorter than the disk: qemu reads zeros past its end.
      const clusterHost = from - (at % cs);
      if (seg.source === 'data' && clusterHost >= file.length && this.s.dataFile === undefined) {
        const cluster = Math.floor(at / cs);
        throw imageError('EQCOW2_BAD_L2_ENTRY', file.path, `guest cluster ${cluster} maps to ${hex(clusterHost)}, past the end of the file`, {
          cluster,
          offset: clusterHost,
        });
      }
      if (pending !== undefined && pending.source === seg.source && pending.from + pending.length === from && pending.bufStart + pending.length === bufPos) {
        pending.length += seg.length;
      } else {
        await flush();
        pending = { source: seg.source, bufStart: bufPos, length: seg.length, from };
      }
    };
    /** Guest bytes [at, upTo) inside one cluster, decoded entry by entry. */
    const takeCluster = async (table: Uint8Array | undefined, at: number, upTo: number): Promise<void> => {
      const cluster = Math.floor(at / cs);
      const entry = table === undefined ? UNALLOCATED : readL2Entry(table, cluster % g.l2Entries, g, file.path);
      for (const seg of clusterSegments(entry, g, at - cluster * cs, upTo - at)) {
        await take(seg, at);
        at += seg.length;
      }
    };
    let at = offset;
    while (at < end) {
      const l1Index = Math.floor(at / g.l1Span);
      const table = await this.s.tables.table(l1Index);
      const spanEnd = Math.min(end, (l1Index + 1) * g.l1Span);
      const firstCluster = Math.floor(at / cs);
      const clusters = Math.floor((spanEnd - 1) / cs) - firstCluster + 1;
      if (table !== undefined && clusters >= BATCH_MIN) {
        // Large requests: the entries are classified and coalesced in one WASM call.
        const tableBase = l1Index * g.l2Entries;
        const mapL2Entries = await loadMapper();
        for (const run of mapL2Entries(table, firstCluster - tableBase, clusters, g)) {
          const runStart = (tableBase + run.first) * cs;
          const from = Math.max(at, runStart);
          const to = Math.min(spanEnd, runStart + run.count * cs);
          const lastHost = run.hostOffset + (run.count - 1) * cs;
          if (run.kind === 'other' || (run.kind === 'data' && lastHost >= file.length && this.s.dataFile === undefined)) {
            for (let c = from; c < to; c = Math.min(to, (Math.floor(c / cs) + 1) * cs)) await takeCluster(table, c, Math.min(to, (Math.floor(c / cs) + 1) * cs));
          } else if (run.kind === 'data') {
            await take({ source: 'data', length: to - from, hostOffset: run.hostOffset + (from - runStart) }, from);
          } else {
            await take({ source: run.kind === 'zero' ? 'zero' : 'backing', length: to - from }, from);
          }
        }
        at = spanEnd;
        continue;
      }
      while (at < spanEnd) {
        const upTo = Math.min(spanEnd, (Math.floor(at / cs) + 1) * cs);
        await takeCluster(table, at, upTo);
        at = upTo;
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
      const cs = g.clusterSize;
      const tableBase = l1Index * g.l2Entries;
      const firstCluster = Math.floor(at / cs);
      const clusters = Math.floor((spanEnd - 1) / cs) - firstCluster + 1;
      // Whole runs of clusters come from the batch mapper; 'other' entries are decoded one by one.
      const runs =
        clusters >= BATCH_MIN
          ? (await loadMapper())(table, firstCluster - tableBase, clusters, g)
          : [{ kind: 'other' as const, first: firstCluster - tableBase, count: clusters, hostOffset: 0 }];
      for (const run of runs) {
        const runStart = (tableBase + run.first) * cs;
        const runEnd = Math.min(spanEnd, runStart + run.count * cs);
        if (run.kind !== 'other') {
          appendExtent(extents, { start: at, length: runEnd - at, kind: run.kind, ...(run.kind === 'data' ? { offset: run.hostOffset + (at - runStart) } : {}) });
          at = runEnd;
          continue;
        }
        while (at < runEnd) {
          const cluster = Math.floor(at / cs);
          const n = Math.min(runEnd, (cluster + 1) * cs) - at;
          const entry = readL2Entry(table, cluster % g.l2Entries, g, file.path);
          for (const seg of clusterSegments(entry, g, at - cluster * cs, n)) {
            const kind = seg.source === 'backing' ? 'unallocated' : seg.source === 'zero' ? 'zero' : 'data';
            appendExtent(extents, { start: at, length: seg.length, kind, ...(seg.source === 'data' ? { offset: seg.hostOffset } : {}) });
            at += seg.length;
          }
        }
      }
    }
    return extents;
  }

  private async perform(buf: Uint8Array, p: Pending): Promise<void> {
    const target = buf.subarray(p.bufStart, p.bufStart + p.length);
    if (p.source === 'data') {
      // A cluster cut short by the end of the file reads its missing tail as zeros, as qemu does.
      const n = await (this.s.dataFile ?? this.s.file).read(target, p.from);
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
    if (this.s.dataFile !== undefined) {
      throw imageError('EQCOW2_BAD_COMPRESSED', file.path, `has a compressed cluster at ${hex(hostOffset)}, which an image with an external data file cannot have`, {
        offset: hostOffset,
      });
    }
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
      bytes = this.s.header.compressionType === COMPRESSION_ZSTD ? unzstd(input, g.clusterSize) : inflate(input, g.clusterSize);
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

function inflate(input: Uint8Array, clusterSize: number): Uint8Array {
  // Sync flush accepts a stream that stops once a whole cluster is out, as qemu's decompressor does.
  return inflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: clusterSize });
}

/** One zstd frame, without the sector padding after it (checkReadable made sure the decoder exists). */
function unzstd(input: Uint8Array, clusterSize: number): Uint8Array {
  const length = zstdFrameLength(input);
  if (length === undefined) throw new Error('not a whole zstd frame');
  return zstdDecompressor()!(input.subarray(0, length), { maxOutputLength: clusterSize });
}
