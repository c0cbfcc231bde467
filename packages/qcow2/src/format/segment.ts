// Plans a read inside one guest cluster: given its L2 entry, which byte ranges come from the image file,
// which are zeros, which come from the backing file and which need decompressing. Pure, so the executor
// that does the reads stays simple and a batch mapper (WASM) can later produce the same plan.
import type { Geometry } from './geometry.js';
import type { L2Entry } from './l2-entry.js';

export type Segment =
  /** Bytes at hostOffset in the image file. */
  | { source: 'data'; length: number; hostOffset: number }
  | { source: 'zero'; length: number }
  /** Same guest offset in the backing file, or zeros when there is none. */
  | { source: 'backing'; length: number }
  /** Bytes [inCluster, inCluster + length) of the cluster compressed at hostOffset. */
  | { source: 'compressed'; length: number; hostOffset: number; compressedSize: number; inCluster: number };

/** Segments covering [inCluster, inCluster + length) of one guest cluster, in order; length > 0. */
export function clusterSegments(entry: L2Entry, g: Geometry, inCluster: number, length: number): Segment[] {
  switch (entry.kind) {
    case 'unallocated':
      return [{ source: 'backing', length }];
    case 'zero':
      return [{ source: 'zero', length }];
    case 'normal':
      return [{ source: 'data', length, hostOffset: entry.hostOffset + inCluster }];
    case 'compressed':
      return [{ source: 'compressed', length, hostOffset: entry.hostOffset, compressedSize: entry.compressedSize, inCluster }];
    case 'subclusters':
      return subclusterSegments(entry, g, inCluster, length);
  }
}

function subclusterSegments(
  entry: Extract<L2Entry, { kind: 'subclusters' }>,
  g: Geometry,
  inCluster: number,
  length: number,
): Segment[] {
  const segments: Segment[] = [];
  const end = inCluster + length;
  let at = inCluster;
  while (at < end) {
    const index = Math.floor(at / g.subclusterSize);
    const upTo = Math.min(end, (index + 1) * g.subclusterSize);
    const bit = 1 << index;
    const source = (entry.allocated & bit) !== 0 ? 'data' : (entry.zero & bit) !== 0 ? 'zero' : 'backing';
    const previous = segments[segments.length - 1];
    if (previous !== undefined && previous.source === source) {
      previous.length += upTo - at; // data subclusters are contiguous in the host cluster, so they merge too
    } else if (source === 'data') {
      segments.push({ source, length: upTo - at, hostOffset: entry.hostOffset + at });
    } else {
      segments.push({ source, length: upTo - at });
    }
    at = upTo;
  }
  return segments;
}
