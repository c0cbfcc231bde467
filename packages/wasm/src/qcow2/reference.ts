// The plain TypeScript twin of the WASM L2 mapper, one entry at a time with DataView: the oracle the
// facade is tested against and the baseline its benchmark measures. Same checks, same runs.
import { type L2Geometry, type L2Run, type L2RunKind, checkBatch, entrySize } from './runs.js';

export type { L2Geometry, L2Run, L2RunKind } from './runs.js';

const ALL = 0xffffffff;

export function mapL2Entries(table: Uint8Array, first: number, count: number, g: L2Geometry): L2Run[] {
  checkBatch(table, first, count, g);
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const size = entrySize(g);
  const clusterSize = 2 ** g.clusterBits;
  const runs: L2Run[] = [];
  let next = 0;
  for (let i = first; i < first + count; i++) {
    const hi = view.getUint32(i * size);
    const lo = view.getUint32(i * size + 4);
    const { kind, hostOffset } = classify(hi, lo, g, clusterSize, g.extendedL2 ? view.getUint32(i * size + 8) : 0, g.extendedL2 ? view.getUint32(i * size + 12) : 0);
    const last = runs[runs.length - 1];
    if (last !== undefined && last.kind === kind && kind !== 'other' && (kind !== 'data' || hostOffset === next)) {
      last.count++;
    } else {
      runs.push({ kind, first: i, count: 1, hostOffset: kind === 'data' ? hostOffset : 0 });
    }
    next = hostOffset + clusterSize;
  }
  return runs;
}

function classify(hi: number, lo: number, g: L2Geometry, clusterSize: number, zero: number, allocated: number): { kind: L2RunKind; hostOffset: number } {
  const compressed = (hi & 0x40000000) !== 0;
  const reserved = (hi & 0x3fe00000) !== 0 || (lo & 0x1fe) !== 0; // bits 53..61 and 1..8
  const hostOffset = (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
  if (compressed || reserved || hostOffset % clusterSize !== 0) return { kind: 'other', hostOffset };
  const copied = (hi & 0x80000000) !== 0;
  if (g.extendedL2) {
    if ((lo & 1) !== 0 || (allocated & zero) !== 0) return { kind: 'other', hostOffset };
    if (allocated === ALL && zero === 0) return { kind: hostOffset !== 0 || g.externalData ? 'data' : 'other', hostOffset };
    if (zero === ALL) return { kind: 'zero', hostOffset };
    if (allocated === 0 && zero === 0 && hostOffset === 0) return { kind: 'unallocated', hostOffset };
    return { kind: 'other', hostOffset };
  }
  if ((lo & 1) !== 0) return { kind: 'zero', hostOffset };
  if (hostOffset === 0 && !(g.externalData && copied)) return { kind: 'unallocated', hostOffset };
  return { kind: 'data', hostOffset };
}
