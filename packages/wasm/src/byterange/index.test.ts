import { describe, expect, it } from 'vitest';
import { IsolaError } from '@isola/errors';
import * as wasm from './index.js';
import * as reference from './reference.js';
import { MAX_BLOCK_SIZE } from './runs.js';

const implementations = [
  ['wasm', wasm],
  ['reference', reference],
] as const;

describe.each(implementations)('%s', (_name, impl) => {
  it('finds no runs in empty input', () => {
    expect(impl.zeroRuns(new Uint8Array(0), 4096)).toEqual([]);
    expect(impl.diffRuns(new Uint8Array(0), new Uint8Array(0), 1)).toEqual([]);
  });

  it('merges adjacent zero blocks and counts a short last block', () => {
    const data = new Uint8Array(20);
    data[5] = 1;
    expect(impl.zeroRuns(data, 4)).toEqual([
      { offset: 0, length: 4 },
      { offset: 8, length: 12 },
    ]);
    data[19] = 1;
    expect(impl.zeroRuns(data, 4)).toEqual([
      { offset: 0, length: 4 },
      { offset: 8, length: 8 },
    ]);
  });

  it('treats input shorter than one block as one short block', () => {
    expect(impl.zeroRuns(new Uint8Array(3), MAX_BLOCK_SIZE)).toEqual([{ offset: 0, length: 3 }]);
    expect(impl.zeroRuns(Uint8Array.of(0, 0, 7), MAX_BLOCK_SIZE)).toEqual([]);
  });

  it('keeps single zero bytes apart with 1-byte blocks', () => {
    expect(impl.zeroRuns(Uint8Array.of(0, 1, 0, 0, 2, 0), 1)).toEqual([
      { offset: 0, length: 1 },
      { offset: 2, length: 2 },
      { offset: 5, length: 1 },
    ]);
  });

  it('finds a nonzero byte at either end of a large block', () => {
    const data = new Uint8Array(3 * 65_536);
    data[65_536] = 1;
    data[3 * 65_536 - 1] = 1;
    expect(impl.zeroRuns(data, 65_536)).toEqual([{ offset: 0, length: 65_536 }]);
  });

  it('diffs equal inputs to nothing and merges adjacent differing blocks', () => {
    const a = new Uint8Array(10).fill(9);
    const b = a.slice();
    expect(impl.diffRuns(a, b, 4)).toEqual([]);
    b[3] = 0;
    b[4] = 0;
    b[9] = 0;
    expect(impl.diffRuns(a, b, 4)).toEqual([{ offset: 0, length: 10 }]);
    b[4] = 9;
    expect(impl.diffRuns(a, b, 4)).toEqual([
      { offset: 0, length: 4 },
      { offset: 8, length: 2 },
    ]);
  });

  it('reads views at any byte offset, Buffers included', () => {
    const backing = new Uint8Array(101).fill(1);
    backing.fill(0, 3, 67);
    const view = backing.subarray(3);
    expect(impl.zeroRuns(view, 32)).toEqual([{ offset: 0, length: 64 }]);
    expect(impl.zeroRuns(Buffer.from(backing.buffer, 3, 64), 16)).toEqual([{ offset: 0, length: 64 }]);
    expect(impl.diffRuns(view, backing.subarray(2, 100), 32)).toEqual([
      { offset: 0, length: 32 },
      { offset: 64, length: 32 },
    ]);
  });

  it('merges runs across its internal chunks', () => {
    const length = 4 * 1024 * 1024 + 5;
    expect(impl.zeroRuns(new Uint8Array(length), 512)).toEqual([{ offset: 0, length }]);
    const a = new Uint8Array(length);
    expect(impl.diffRuns(a, new Uint8Array(length).fill(1), 4096)).toEqual([{ offset: 0, length }]);
  });

  it.each([0, -4, 3, 1.5, Number.NaN, Infinity, 2 * MAX_BLOCK_SIZE])('rejects block size %s', (blockSize) => {
    const data = new Uint8Array(8);
    for (const call of [() => impl.zeroRuns(data, blockSize), () => impl.diffRuns(data, data, blockSize)]) {
      expect(call).toThrow(IsolaError);
      expect(call).toThrow(
        expect.objectContaining({ code: 'EBLOCK_SIZE', message: expect.stringContaining(`block size ${blockSize} `) }),
      );
    }
  });

  it('rejects inputs of different lengths', () => {
    const call = () => impl.diffRuns(new Uint8Array(8), new Uint8Array(9), 4);
    expect(call).toThrow(
      expect.objectContaining({ code: 'ELENGTH_MISMATCH', message: 'cannot diff 8 bytes against 9 bytes: lengths differ' }),
    );
  });
});

// Generated inputs: runs of blocks that are zero, random, or zero but for one stray byte at the block's
// first, last or a random position (the places a vector loop or its tail most likely gets wrong).
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function strayByte(rand: () => number, data: Uint8Array, start: number, end: number): void {
  const where = rand();
  const at = where < 0.3 ? start : where < 0.6 ? end - 1 : start + Math.floor(rand() * (end - start));
  data[at] ^= 1 + Math.floor(rand() * 255);
}

/** Marks some segments of whole blocks of data: fills them with random bytes or a stray byte per block. */
function scribble(rand: () => number, data: Uint8Array, blockSize: number, share: number): void {
  for (let start = 0; start < data.length; ) {
    const end = Math.min(data.length, start + blockSize * (1 + Math.floor(rand() * 6)));
    if (rand() < share) {
      if (rand() < 0.4) {
        for (let i = start; i < end; i++) data[i] = Math.floor(rand() * 256);
      } else {
        for (let block = start; block < end; block += blockSize) strayByte(rand, data, block, Math.min(end, block + blockSize));
      }
    }
    start = end;
  }
}

function lengths(rand: () => number, blockSize: number): number[] {
  const some = (max: number) => Math.floor(rand() * max);
  // Small block sizes also get inputs a few chunks long, where chunk borders fall inside runs.
  const large = Math.max(3 * blockSize, 700_000);
  return [0, 1, blockSize - 1, blockSize, blockSize + 1, 2 * blockSize + some(blockSize), some(4 * blockSize), some(large)];
}

const blockSizes = Array.from({ length: 22 }, (_, shift) => 2 ** shift);

describe('wasm matches the reference on generated inputs', () => {
  it.each(blockSizes)('zeroRuns, block size %i', (blockSize) => {
    const rand = mulberry32(blockSize);
    for (const share of [0.05, 0.5, 0.95]) {
      for (const length of lengths(rand, blockSize)) {
        const data = new Uint8Array(length);
        scribble(rand, data, blockSize, share);
        expect(wasm.zeroRuns(data, blockSize), `share ${share}, length ${length}`).toEqual(reference.zeroRuns(data, blockSize));
      }
    }
  });

  it.each(blockSizes)('diffRuns, block size %i', (blockSize) => {
    const rand = mulberry32(~blockSize);
    for (const share of [0.05, 0.5, 0.95]) {
      for (const length of lengths(rand, blockSize)) {
        const a = new Uint8Array(length);
        scribble(rand, a, blockSize, 0.5);
        const b = a.slice();
        scribble(rand, b, blockSize, share);
        expect(wasm.diffRuns(a, b, blockSize), `share ${share}, length ${length}`).toEqual(reference.diffRuns(a, b, blockSize));
      }
    }
  });

  it('fills the result buffer of a chunk in the worst case: every other byte zero', () => {
    const data = new Uint8Array(1_000_001).map((_, i) => i & 1);
    const runs = wasm.zeroRuns(data, 1);
    expect(runs).toHaveLength(500_001);
    // Checked by hand: a deep comparison of half a million runs would dominate the suite's time.
    expect(runs.every((run, i) => run.offset === 2 * i && run.length === 1)).toBe(true);
  });
});
