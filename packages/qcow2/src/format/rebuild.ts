// Plans a fresh refcount structure (table and blocks) from counted references, as qemu's
// rebuild_refcount_structure does: placed at the end of the file, so the old structure stays valid
// until the header switches to the new one, and the old clusters simply become free.
import type { Geometry } from './geometry.js';
import { maxRefcount, writeRefcount, writeReftableEntry } from './refcount.js';

export interface RefcountPlan {
  tableOffset: number;
  tableClusters: number;
  /** Blocks first, then the table: write both, sync, then point the header at the table. */
  regions: { offset: number; bytes: Uint8Array }[];
  /** Clusters whose reference count did not fit refcount_bits (clamped to the maximum). */
  overflows: number[];
}

/**
 * `refs[c]` is how many references cluster c has, excluding any refcount structure; `start` is the
 * first cluster index (at or past every referenced one) where the new structure may go.
 */
export function planRefcountStructure(refs: ArrayLike<number>, start: number, g: Geometry): RefcountPlan {
  const E = g.refcountBlockEntries;
  let tableClusters = 1;
  let blocks = 1;
  for (;;) {
    const total = start + tableClusters + blocks;
    const needBlocks = Math.ceil(total / E);
    const needTable = Math.max(1, Math.ceil(needBlocks / g.reftableEntriesPerCluster));
    if (needBlocks === blocks && needTable === tableClusters) break;
    blocks = needBlocks;
    tableClusters = needTable;
  }
  const cs = g.clusterSize;
  const total = start + tableClusters + blocks;
  const max = maxRefcount(g.refcountOrder);
  const overflows: number[] = [];
  const blockBytes = new Uint8Array(blocks * cs);
  for (let c = 0; c < total; c++) {
    let value = c < start ? (c < refs.length ? refs[c] : 0) : 1;
    if (value > max) {
      overflows.push(c);
      value = max;
    }
    // The blocks are contiguous, so entry c of the whole run is entry c % E of block c / E.
    if (value !== 0) writeRefcount(blockBytes, c, g.refcountOrder, value);
  }
  const table = new Uint8Array(tableClusters * cs);
  const blocksOffset = (start + tableClusters) * cs;
  for (let b = 0; b < blocks; b++) writeReftableEntry(table, b, blocksOffset + b * cs);
  return {
    tableOffset: start * cs,
    tableClusters,
    regions: [
      { offset: blocksOffset, bytes: blockBytes },
      { offset: start * cs, bytes: table },
    ],
    overflows,
  };
}
