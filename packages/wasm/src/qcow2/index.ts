// Batch qcow2 cluster mapping, run by assembly/qcow2.ts: a slice of an L2 table in, runs of clusters
// out (unallocated, zero, host-contiguous data), so a large guest request becomes a few reads instead
// of one decision per cluster. One call per batch: the entries are copied into linear memory, the
// module classifies and coalesces them, and the runs are read back as [kind, count, host] records.
import { loadWasm } from '../loader.js';
import { KINDS, type L2Geometry, type L2Run, checkBatch, entrySize } from './runs.js';

export type { L2Geometry, L2Run, L2RunKind } from './runs.js';

interface Qcow2Exports {
  mapL2(table: number, count: number, clusterBits: number, flags: number, out: number): number;
}

/** Largest batch per call: a whole L2 table of the largest clusters (2 MiB / 8 bytes). */
const MAX_ENTRIES = 262_144;

/** The runs that entries [first, first + count) of an L2 table form; see L2Run. */
export function mapL2Entries(table: Uint8Array, first: number, count: number, g: L2Geometry): L2Run[] {
  checkBatch(table, first, count, g);
  const wasm = loadWasm<Qcow2Exports>('qcow2');
  const size = entrySize(g);
  const flags = (g.extendedL2 ? 1 : 0) | (g.externalData ? 2 : 0);
  const runs: L2Run[] = [];
  for (let base = first; base < first + count; base += MAX_ENTRIES) {
    const n = Math.min(MAX_ENTRIES, first + count - base);
    const tablePtr = wasm.heapBase;
    const outPtr = tablePtr + n * size; // 8-aligned: heapBase is 16-aligned and entries are 8 or 16 bytes
    const memory = wasm.reserve(n * size + n * 16);
    memory.set(table.subarray(base * size, (base + n) * size), tablePtr);
    const produced = wasm.exports.mapL2(tablePtr, n, g.clusterBits, flags, outPtr);
    const words = new Uint32Array(memory.buffer, outPtr, produced * 4);
    const hosts = new Float64Array(memory.buffer, outPtr, produced * 2);
    let at = base;
    for (let r = 0; r < produced; r++) {
      const kind = KINDS[words[r * 4]];
      const runCount = words[r * 4 + 1];
      const last = runs[runs.length - 1];
      const host = kind === 'data' ? hosts[r * 2 + 1] : 0;
      // Batches of MAX_ENTRIES split runs: join them again.
      if (r === 0 && last !== undefined && last.kind === kind && kind !== 'other' && (kind !== 'data' || last.hostOffset + last.count * 2 ** g.clusterBits === host)) {
        last.count += runCount;
      } else {
        runs.push({ kind, first: at, count: runCount, hostOffset: host });
      }
      at += runCount;
    }
  }
  return runs;
}
