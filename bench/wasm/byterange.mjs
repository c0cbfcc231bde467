// Benchmarks @isola/wasm zeroRuns/diffRuns against the package's TypeScript reference and the fastest
// plain-JS approaches found: Buffer.compare of each block against a zero block (or the other buffer),
// which is native memcmp, and the same behind a two-byte probe that settles most data blocks without a
// native call. Every implementation returns the same coalesced ByteRun[] and is checked against WASM.
//
// Run after `npm run build` (it imports the built package): node bench/wasm/byterange.mjs [MiB]
// Repetitions are interleaved across implementations so background load hits all of them alike;
// medians per implementation, and each one's time divided by WASM's (> 1: WASM is faster).
import { randomFillSync } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { diffRuns, zeroRuns } from '@isola/wasm';
import { byterange as reference } from '@isola/wasm/reference';

const MiB = 1024 * 1024;
const SIZE = Number(process.argv[2] ?? 64) * MiB;
const REPS = 7;
const BLOCK_SIZES = [512, 4096, 65_536];
// Share of blocks that are zero (zeroRuns) or changed (diffRuns).
const PATTERNS = [
  ['mostly zero/equal', 0.95],
  ['mixed', 0.5],
  ['mostly data/changed', 0.05],
];

const zeroBlock = Buffer.alloc(2 * MiB);

function append(runs, offset, length) {
  const last = runs[runs.length - 1];
  if (last && last.offset + last.length === offset) last.length += length;
  else runs.push({ offset, length });
}

function memcmpZero(data, blockSize) {
  const runs = [];
  for (let start = 0; start < data.length; start += blockSize) {
    const end = Math.min(start + blockSize, data.length);
    if (data.compare(zeroBlock, 0, end - start, start, end) === 0) append(runs, start, end - start);
  }
  return runs;
}

function probeZero(data, blockSize) {
  const runs = [];
  for (let start = 0; start < data.length; start += blockSize) {
    const end = Math.min(start + blockSize, data.length);
    const zero = data[start] === 0 && data[end - 1] === 0 && data.compare(zeroBlock, 0, end - start, start, end) === 0;
    if (zero) append(runs, start, end - start);
  }
  return runs;
}

function memcmpDiff(a, b, blockSize) {
  const runs = [];
  for (let start = 0; start < a.length; start += blockSize) {
    const end = Math.min(start + blockSize, a.length);
    if (a.compare(b, start, end, start, end) !== 0) append(runs, start, end - start);
  }
  return runs;
}

function probeDiff(a, b, blockSize) {
  const runs = [];
  for (let start = 0; start < a.length; start += blockSize) {
    const end = Math.min(start + blockSize, a.length);
    const differ = a[start] !== b[start] || a[end - 1] !== b[end - 1] || a.compare(b, start, end, start, end) !== 0;
    if (differ) append(runs, start, end - start);
  }
  return runs;
}

/** Seeded, so every run measures the same layout: segments of 1 to 16 blocks, each selected with probability share. */
function segments(blockSize, share, seed, visit) {
  let state = seed;
  const rand = () => ((state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
  for (let start = 0; start < SIZE; ) {
    const end = Math.min(SIZE, start + blockSize * (1 + Math.floor(rand() * 16)));
    if (rand() < share) visit(start, end);
    start = end;
  }
}

// Random bytes, written in full: untouched zero pages would all map to one cached physical page.
function zeroCase(blockSize, share) {
  const data = randomFillSync(Buffer.alloc(SIZE));
  segments(blockSize, share, blockSize, (start, end) => data.fill(0, start, end));
  return {
    wasm: () => zeroRuns(data, blockSize),
    reference: () => reference.zeroRuns(data, blockSize),
    'js memcmp': () => memcmpZero(data, blockSize),
    'js probe+memcmp': () => probeZero(data, blockSize),
  };
}

function diffCase(blockSize, share) {
  const a = randomFillSync(Buffer.alloc(SIZE));
  const b = Buffer.from(a);
  segments(blockSize, 1 - share, ~blockSize, (start, end) => randomFillSync(b, start, end - start));
  return {
    wasm: () => diffRuns(a, b, blockSize),
    reference: () => reference.diffRuns(a, b, blockSize),
    'js memcmp': () => memcmpDiff(a, b, blockSize),
    'js probe+memcmp': () => probeDiff(a, b, blockSize),
  };
}

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1];
}

function measure(implementations) {
  const expected = implementations.wasm();
  for (const [name, run] of Object.entries(implementations)) {
    if (!isDeepStrictEqual(run(), expected)) throw new Error(`${name} disagrees with wasm`);
  }
  const times = Object.fromEntries(Object.keys(implementations).map((name) => [name, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, run] of Object.entries(implementations)) {
      const start = process.hrtime.bigint();
      run();
      times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return { runs: expected.length, medians: Object.fromEntries(Object.entries(times).map(([name, t]) => [name, median(t)])) };
}

const names = ['wasm', 'reference', 'js memcmp', 'js probe+memcmp'];
const WIDTHS = [-9, -20, 6, 7, ...names.map(() => 22)]; // negative: left-aligned
const row = (cells) => cells.map((cell, i) => (WIDTHS[i] < 0 ? cell.padEnd(-WIDTHS[i]) : cell.padStart(WIDTHS[i]))).join(' ');

console.log(`byterange on ${SIZE / MiB} MiB, median of ${REPS} interleaved runs, ms (x = time / wasm time; > 1: wasm faster)`);
console.log(row(['function', 'input', 'block', 'runs', ...names]));
for (const [fn, makeCase] of [['zeroRuns', zeroCase], ['diffRuns', diffCase]]) {
  for (const [pattern, share] of PATTERNS) {
    for (const blockSize of BLOCK_SIZES) {
      const { runs, medians } = measure(makeCase(blockSize, share));
      const cells = names.map((name) => {
        const ms = medians[name].toFixed(1);
        return name === 'wasm' ? ms : `${ms} (${(medians[name] / medians.wasm).toFixed(2)}x)`;
      });
      console.log(row([fn, pattern, String(blockSize), String(runs), ...cells]));
    }
  }
}
