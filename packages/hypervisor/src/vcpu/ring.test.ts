import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ByteRing } from './ring.js';

describe('ByteRing', () => {
  it('passes bytes in order and ends when closed', async () => {
    const ring = new ByteRing(16);
    ring.write(Uint8Array.of(1, 2, 3));
    ring.write(4);
    ring.close();
    const got: number[] = [];
    await ring.pump((b) => got.push(...b));
    expect(got).toEqual([1, 2, 3, 4]);
  });

  it('ends a waiting pump even when the close came without a wake-up (a notify that found nobody waiting)', async () => {
    const ring = new ByteRing(16);
    ring.write(Uint8Array.of(7));
    const got: number[] = [];
    const pumping = ring.pump((b) => got.push(...b));
    await new Promise((r) => setTimeout(r, 20)); // the byte is taken; pump now waits for more
    // What close() stores, without its notify: as if it had landed just before the wait began.
    Atomics.store(new Int32Array(ring.buffer, 0, 4), 2, 1);
    const ended = await Promise.race([pumping.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still waiting'), 2000))]);
    expect(ended).toBe('ended');
    expect(got).toEqual([7]);
  });

  it('lets a producer thread block while full and a consumer wake on new bytes, losing nothing', async () => {
    const ring = new ByteRing(64);
    // The worker writes 10 000 bytes through a 64-byte ring, then closes it.
    const code = `
      const { workerData } = require('node:worker_threads');
      const header = new Int32Array(workerData, 0, 4);
      const data = new Uint8Array(workerData, 16);
      let w = 0;
      for (let i = 0; i < 10000; i++) {
        while (((w - Atomics.load(header, 1)) >>> 0) > 63) Atomics.wait(header, 1, Atomics.load(header, 1), 100);
        data[w & 63] = i & 0xff; w = (w + 1) | 0;
        Atomics.store(header, 0, w); Atomics.notify(header, 0);
      }
      Atomics.store(header, 2, 1); Atomics.notify(header, 0);`;
    const worker = new Worker(code, { eval: true, workerData: ring.buffer });
    const got: number[] = [];
    await ring.pump((b) => got.push(...b));
    await worker.terminate();
    expect(got.length).toBe(10000);
    expect(got.every((b, i) => b === (i & 0xff))).toBe(true);
  });
});
