import { describe, expect, it } from 'vitest';
import * as wasm from './index.js';
import * as reference from './reference.js';
import type { L2Geometry } from './runs.js';

const implementations = [
  ['wasm', wasm],
  ['reference', reference],
] as const;

const plain: L2Geometry = { clusterBits: 16, extendedL2: false, externalData: false };
const extended: L2Geometry = { clusterBits: 16, extendedL2: true, externalData: false };

/** Writes one entry: the 64-bit word, and with extended L2 the zero and allocated bitmaps. */
function put(table: Uint8Array, index: number, g: L2Geometry, word: bigint, zero = 0, allocated = 0): void {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const size = g.extendedL2 ? 16 : 8;
  view.setBigUint64(index * size, word);
  if (g.extendedL2) {
    view.setUint32(index * size + 8, zero);
    view.setUint32(index * size + 12, allocated);
  }
}

const COPIED = 1n << 63n;

describe.each(implementations)('%s', (_name, impl) => {
  it('merges host-contiguous data, unallocated and zero entries into runs', () => {
    const t = new Uint8Array(8 * 8);
    put(t, 0, plain, COPIED | 0x10000n);
    put(t, 1, plain, COPIED | 0x20000n);
    put(t, 2, plain, 0x40000n); // not contiguous, copied flag irrelevant
    put(t, 5, plain, 1n); // zero
    put(t, 6, plain, 0x50000n | 1n); // preallocated zero
    put(t, 7, plain, (1n << 62n) | 0x1234n); // compressed
    expect(impl.mapL2Entries(t, 0, 8, plain)).toEqual([
      { kind: 'data', first: 0, count: 2, hostOffset: 0x10000 },
      { kind: 'data', first: 2, count: 1, hostOffset: 0x40000 },
      { kind: 'unallocated', first: 3, count: 2, hostOffset: 0 },
      { kind: 'zero', first: 5, count: 2, hostOffset: 0 },
      { kind: 'other', first: 7, count: 1, hostOffset: 0 },
    ]);
    expect(impl.mapL2Entries(t, 1, 2, plain)).toEqual([
      { kind: 'data', first: 1, count: 1, hostOffset: 0x20000 },
      { kind: 'data', first: 2, count: 1, hostOffset: 0x40000 },
    ]);
  });

  it('leaves invalid entries to the caller, one at a time', () => {
    const t = new Uint8Array(4 * 8);
    put(t, 0, plain, COPIED | 0x10200n); // misaligned
    put(t, 1, plain, 1n << 58n); // reserved
    put(t, 2, plain, 1n << 54n); // beyond 2^53
    put(t, 3, plain, 0x10000n | 2n); // reserved low bit
    expect(impl.mapL2Entries(t, 0, 4, plain).map((r) => [r.kind, r.count])).toEqual([
      ['other', 1],
      ['other', 1],
      ['other', 1],
      ['other', 1],
    ]);
  });

  it('reads uniform subcluster bitmaps as whole clusters, mixed ones as other', () => {
    const t = new Uint8Array(5 * 16);
    put(t, 0, extended, COPIED | 0x10000n, 0, 0xffffffff);
    put(t, 1, extended, COPIED | 0x20000n, 0, 0xffffffff);
    put(t, 2, extended, 0n, 0xffffffff, 0);
    put(t, 3, extended, COPIED | 0x30000n, 0, 0b1010);
    put(t, 4, extended, 0n, 0, 0);
    expect(impl.mapL2Entries(t, 0, 5, extended)).toEqual([
      { kind: 'data', first: 0, count: 2, hostOffset: 0x10000 },
      { kind: 'zero', first: 2, count: 1, hostOffset: 0 },
      { kind: 'other', first: 3, count: 1, hostOffset: 0 },
      { kind: 'unallocated', first: 4, count: 1, hostOffset: 0 },
    ]);
  });

  it('maps offset 0 with the copied flag to data only with an external data file', () => {
    const t = new Uint8Array(16);
    put(t, 0, plain, COPIED);
    put(t, 1, plain, COPIED | 0x10000n);
    expect(impl.mapL2Entries(t, 0, 2, plain)[0]).toMatchObject({ kind: 'unallocated', count: 1 });
    expect(impl.mapL2Entries(t, 0, 2, { ...plain, externalData: true })).toEqual([{ kind: 'data', first: 0, count: 2, hostOffset: 0 }]);
  });

  it('refuses batches outside the table and impossible cluster sizes', () => {
    expect(() => impl.mapL2Entries(new Uint8Array(64), 7, 2, plain)).toThrow(expect.objectContaining({ code: 'EL2_RANGE' }));
    expect(() => impl.mapL2Entries(new Uint8Array(64), -1, 1, plain)).toThrow(expect.objectContaining({ code: 'EL2_RANGE' }));
    expect(() => impl.mapL2Entries(new Uint8Array(64), 0, 1, { ...plain, clusterBits: 22 })).toThrow(expect.objectContaining({ code: 'EL2_GEOMETRY' }));
    expect(impl.mapL2Entries(new Uint8Array(64), 8, 0, plain)).toEqual([]);
  });
});

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A table of `count` entries in runs of the shapes real images have (contiguous data, holes, zero
 * clusters, compressed clusters, mixed bitmaps) and some hostile ones (reserved bits, misaligned or huge
 * offsets, bitmaps both allocated and zero, single flipped bits anywhere).
 */
function generate(rand: () => number, g: L2Geometry, count: number): Uint8Array {
  const size = g.extendedL2 ? 16 : 8;
  const table = new Uint8Array(count * size);
  const cs = 2n ** BigInt(g.clusterBits);
  const pick = (n: number): number => Math.floor(rand() * n);
  let host = cs * BigInt(1 + pick(1000));
  for (let i = 0; i < count; ) {
    const length = Math.min(count - i, 1 + pick(rand() < 0.2 ? 200 : 8));
    const shape = pick(10);
    for (let k = 0; k < length; k++, i++) {
      const copied = rand() < 0.8 ? COPIED : 0n;
      switch (shape) {
        case 0:
        case 1:
        case 2:
          put(table, i, g, copied | host, 0, 0xffffffff);
          host += cs;
          break;
        case 3:
          break;
        case 4:
          put(table, i, g, g.extendedL2 ? (rand() < 0.5 ? host : 0n) : 1n | (rand() < 0.5 ? host : 0n), 0xffffffff, 0);
          break;
        case 5:
          put(table, i, g, (1n << 62n) | BigInt(pick(2 ** 30)));
          break;
        case 6: {
          const allocated = pick(2 ** 32) >>> 0;
          put(table, i, g, copied | host, (~allocated & pick(2 ** 32)) >>> 0, allocated);
          host += cs;
          break;
        }
        case 7:
          put(table, i, g, copied | (rand() < 0.5 ? 0n : host), rand() < 0.3 ? 1 : 0, rand() < 0.5 ? 0xffffffff : 0);
          break;
        case 8:
          put(table, i, g, copied | host | (1n << BigInt(pick(64))), pick(2 ** 32), pick(2 ** 32));
          break;
        default:
          put(table, i, g, copied | (host + BigInt(512 * pick(4))), 0, 0xffffffff);
          host += cs * BigInt(pick(3));
      }
    }
    if (rand() < 0.1) host = cs * BigInt(pick(2 ** 20));
  }
  return table;
}

describe('wasm matches the reference on generated tables', () => {
  for (let clusterBits = 9; clusterBits <= 21; clusterBits++) {
    for (const extendedL2 of clusterBits >= 14 ? [false, true] : [false]) {
      it(`cluster_bits ${clusterBits}${extendedL2 ? ', extended L2' : ''}`, () => {
        const rand = mulberry32(clusterBits * 2 + (extendedL2 ? 1 : 0));
        for (const externalData of [false, true]) {
          const g = { clusterBits, extendedL2, externalData };
          const count = Math.min(2 ** clusterBits / (extendedL2 ? 16 : 8), 8192) * 2;
          const table = generate(rand, g, count);
          expect(wasm.mapL2Entries(table, 0, count, g)).toEqual(reference.mapL2Entries(table, 0, count, g));
          for (let k = 0; k < 10; k++) {
            const first = Math.floor(rand() * count);
            const n = Math.floor(rand() * (count - first + 1));
            expect(wasm.mapL2Entries(table, first, n, g), `entries ${first}+${n}`).toEqual(reference.mapL2Entries(table, first, n, g));
          }
        }
      });
    }
  }

  it('joins runs across its internal batches of 262144 entries', () => {
    const count = 600_000;
    const table = new Uint8Array(count * 8);
    for (let i = 0; i < count; i++) put(table, i, plain, COPIED | (BigInt(i + 1) << 16n));
    expect(wasm.mapL2Entries(table, 0, count, plain)).toEqual([{ kind: 'data', first: 0, count, hostOffset: 0x10000 }]);
    const rand = mulberry32(99);
    const mixed = generate(rand, plain, count);
    expect(wasm.mapL2Entries(mixed, 5, count - 5, plain)).toEqual(reference.mapL2Entries(mixed, 5, count - 5, plain));
  });
});
