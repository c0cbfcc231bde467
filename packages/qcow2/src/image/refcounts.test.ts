// The cluster pool (refcounts.ts take/settle): a long run of allocating writes is served from pools
// that grow, and a flush that gives a pool's untaken clusters back keeps them fresh, so later small
// writes into new clusters still write only the blocks they touch (the file stays sparse). qemu-img
// check must find neither errors nor leaks once the image is closed.
import { statSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { qemuImg, qemuImgStatus, tempDir } from '../../test/qemu.js';
import { createImage, openImage } from './open.js';

const tmp = tempDir('refcounts');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

const CLUSTER = 65536;

describe('cluster pool', () => {
  it('serves 1000 allocating 4 KiB writes with flushes between, keeping the file sparse and leak-free', async () => {
    const path = tmp.path('sparse.qcow2');
    await (await createImage(path, { size: 1024 * 1024 * 1024 })).close();
    const image = await openImage(path);
    const count = 1000; // more than the first pools (128, 256, 512 clusters) hold
    for (let i = 0; i < count; i++) {
      await image.write(Buffer.alloc(4096, (i % 255) + 1), i * CLUSTER);
      if (i % 300 === 299) await image.flush();
    }
    await image.close();

    const check = qemuImgStatus('check', path);
    expect(check.output).not.toMatch(/ERROR|Leaked|leaked/);
    expect(check.status).toBe(0);
    // Each write stored 4 KiB of a fresh cluster: had the flushes turned the pool's rest into old space,
    // those clusters would have been written whole (copy-on-write of zeros), 64 KiB each.
    const stored = statSync(path).blocks * 512;
    expect(stored).toBeLessThan(count * 4096 * 2 + 4 * 1024 * 1024);

    const reopened = await openImage(path, { readOnly: true });
    try {
      const buf = Buffer.alloc(CLUSTER);
      for (const i of [0, 299, 300, 301, 999]) {
        await reopened.read(buf, i * CLUSTER);
        expect(buf.subarray(0, 4096).every((b) => b === (i % 255) + 1)).toBe(true);
        expect(buf.subarray(4096).every((b) => b === 0)).toBe(true);
      }
    } finally {
      await reopened.close();
    }
    const map = JSON.parse(qemuImg('map', '--output=json', path)) as { start: number; length: number; data: boolean }[];
    const data = map.filter((m) => m.data).reduce((n, m) => n + m.length, 0);
    expect(data).toBe(count * CLUSTER);
  });
});
