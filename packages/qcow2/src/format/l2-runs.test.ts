// The batch mapper in @isola/wasm classifies L2 entries on its own; this checks it against this
// package's parser (readL2Entry) on generated tables: every run it reports must be what the parser
// says of each entry in it, and every entry it leaves to the caller ('other') must be one the parser
// decodes as compressed or mixed subclusters, or refuses.
import { IsolaError } from '@isola/errors';
import { mapL2Entries } from '@isola/wasm';
import { describe, expect, it } from 'vitest';
import { geometryOf } from './geometry.js';
import { readL2Entry } from './l2-entry.js';
import { rng } from '../../test/model.js';

describe('the WASM L2 mapper agrees with readL2Entry', () => {
  for (const [clusterBits, features] of [
    [9, 0n],
    [16, 0n],
    [16, 1n << 4n],
    [21, 0n],
    [14, (1n << 4n) | (1n << 2n)],
    [16, 1n << 2n],
  ] as const) {
    it(`cluster_bits ${clusterBits}, incompatible features ${features}`, () => {
      const g = geometryOf({ clusterBits, refcountOrder: 4, incompatibleFeatures: features });
      const next = rng(clusterBits + Number(features));
      const entries = Math.min(g.l2Entries, 16_384); // a part of the 2 MiB table: per-entry expects are slow
      const table = new Uint8Array(entries * g.l2EntrySize);
      const view = new DataView(table.buffer);
      let host = BigInt(g.clusterSize) * 8n;
      for (let i = 0; i < entries; i++) {
        const at = i * g.l2EntrySize;
        const shape = next(12);
        const copied = next(5) === 0 ? 0n : 1n << 63n;
        if (shape < 5) view.setBigUint64(at, copied | host);
        else if (shape === 5) view.setBigUint64(at, 1n);
        else if (shape === 6) view.setBigUint64(at, (1n << 62n) | BigInt(next(2 ** 30)));
        else if (shape === 7) view.setBigUint64(at, copied | host | (1n << BigInt(next(64))));
        else if (shape === 8) view.setBigUint64(at, copied);
        if (g.extendedL2) {
          const allocated = shape < 5 || shape === 8 ? 0xffffffff : next(3) === 0 ? next(2 ** 32) : 0;
          view.setUint32(at + 12, allocated);
          view.setUint32(at + 8, shape === 5 ? 0xffffffff : next(4) === 0 ? next(2 ** 32) & ~allocated : 0);
        }
        if (next(3) !== 0) host += BigInt(g.clusterSize);
        else host = BigInt(g.clusterSize) * BigInt(8 + next(1 << 16));
      }
      const runs = mapL2Entries(table, 0, entries, g);
      expect(runs.reduce((n, r) => n + r.count, 0)).toBe(entries);
      for (const run of runs) {
        for (let k = 0; k < run.count; k++) {
          const i = run.first + k;
          let entry;
          try {
            entry = readL2Entry(table, i, g, 'x');
          } catch (error) {
            expect(error).toBeInstanceOf(IsolaError);
            expect(run.kind, `entry ${i}`).toBe('other');
            continue;
          }
          if (run.kind === 'other') expect(['compressed', 'subclusters'], `entry ${i}`).toContain(entry.kind);
          else if (run.kind === 'data') expect(entry, `entry ${i}`).toMatchObject({ kind: 'normal', hostOffset: run.hostOffset + k * g.clusterSize });
          else expect(entry.kind, `entry ${i}`).toBe(run.kind);
        }
      }
    });
  }
});
