// Benchmarks the batch L2 mapper (@isola/wasm mapL2Entries, AssemblyScript) against its TypeScript
// reference and against what the qcow2 reader does without it: readL2Entry + clusterSegments per
// cluster. Tables as images have them: fully contiguous (a converted disk), fragmented (random
// allocating writes: short runs at scattered offsets, with holes and zero clusters). Batch sizes from
// a small request (8 clusters) to a whole L2 table, so the crossover point shows.
//
// Run after `npm run build` (it imports the built packages): node bench/qcow2/l2-map.mjs
// Repetitions interleave the implementations; medians in ns per entry, and each one's time divided by
// WASM's (> 1: WASM is faster).
import { mapL2Entries } from '@isola/wasm';
import { qcow2 as reference } from '@isola/wasm/reference';
import { clusterSegments, geometryOf, readL2Entry } from '@isola/qcow2';

const REPS = 9;
const COPIED = 1n << 63n;

function table(g, shape, seed) {
  const size = g.l2EntrySize;
  const bytes = new Uint8Array(g.l2Entries * size);
  const view = new DataView(bytes.buffer);
  let state = seed;
  const rand = (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  let host = BigInt(g.clusterSize) * 16n;
  for (let i = 0; i < g.l2Entries; ) {
    const run = shape === 'contiguous' ? g.l2Entries : 1 + rand(6);
    const kind = shape === 'contiguous' ? 0 : rand(4);
    if (shape !== 'contiguous') host = BigInt(g.clusterSize) * BigInt(16 + rand(1 << 20));
    for (let k = 0; k < run && i < g.l2Entries; k++, i++) {
      if (kind <= 1) {
        view.setBigUint64(i * size, COPIED | host);
        if (g.extendedL2) view.setUint32(i * size + 12, 0xffffffff);
        host += BigInt(g.clusterSize);
      } else if (kind === 2) {
        if (g.extendedL2) view.setUint32(i * size + 8, 0xffffffff);
        else view.setBigUint64(i * size, 1n);
      }
    }
  }
  return bytes;
}

/** What the reader did per cluster before the batch mapper: parse, plan segments, merge host runs. */
function perEntry(bytes, first, count, g) {
  const runs = [];
  for (let i = first; i < first + count; i++) {
    const entry = readL2Entry(bytes, i, g, 'bench');
    for (const seg of clusterSegments(entry, g, 0, g.clusterSize)) {
      const last = runs[runs.length - 1];
      const from = seg.source === 'data' ? seg.hostOffset : 0;
      if (last !== undefined && last.source === seg.source && (seg.source !== 'data' || last.from + last.length === from)) last.length += seg.length;
      else runs.push({ source: seg.source, from, length: seg.length });
    }
  }
  return runs;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn, entries) {
  // Enough calls for ~20 ms, so timer resolution does not matter.
  let calls = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    const ns = Number(process.hrtime.bigint() - start);
    if (ns > 20e6) return ns / calls / entries;
    calls *= 2;
  }
}

console.log(`# L2 mapping, ns per entry (median of ${REPS}); ratio = implementation time / WASM time`);
console.log(`${'case'.padEnd(44)}${'wasm'.padStart(8)}${'ts ref'.padStart(8)}${'per-entry'.padStart(11)}${'ref/wasm'.padStart(10)}${'entry/wasm'.padStart(12)}`);
for (const [clusterBits, extended] of [[16, false], [12, false], [21, false], [16, true]]) {
  const g = geometryOf({ clusterBits, refcountOrder: 4, incompatibleFeatures: extended ? 1n << 4n : 0n });
  const wg = { clusterBits, extendedL2: extended, externalData: false };
  for (const shape of ['contiguous', 'fragmented']) {
    const bytes = table(g, shape, clusterBits);
    for (const batch of [8, 64, g.l2Entries]) {
      if (batch > g.l2Entries || (batch === g.l2Entries && batch <= 64)) continue;
      const impls = {
        wasm: () => mapL2Entries(bytes, 0, batch, wg),
        ref: () => reference.mapL2Entries(bytes, 0, batch, wg),
        entry: () => perEntry(bytes, 0, batch, g),
      };
      const times = { wasm: [], ref: [], entry: [] };
      for (let r = 0; r < REPS; r++) for (const name of Object.keys(impls)) times[name].push(time(impls[name], batch));
      const [w, ref, entry] = [median(times.wasm), median(times.ref), median(times.entry)];
      const name = `${2 ** clusterBits / 1024} KiB${extended ? ' ext-L2' : ''} ${shape}, ${batch} entries`;
      console.log(`${name.padEnd(44)}${w.toFixed(1).padStart(8)}${ref.toFixed(1).padStart(8)}${entry.toFixed(1).padStart(11)}${(ref / w).toFixed(2).padStart(9)}x${(entry / w).toFixed(2).padStart(11)}x`);
    }
  }
}
