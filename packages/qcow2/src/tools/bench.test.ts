// bench: qemu-img bench's request loop, with O_DIRECT (cache none) through aligned buffers, at queue
// depth 1 and 32; the writes it reports land where qemu-img bench would put them.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, qemuImgStatus, tempDir, writeRaw } from '../../test/qemu.js';
import { bench } from './bench.js';

const tmp = tempDir('bench');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

describe('bench', () => {
  it('reads and writes raw and qcow2 images, direct and cached, at depth 1 and 32', async () => {
    writeRaw(tmp.path('d.raw'), pattern(2 * 1024 * 1024, 91));
    qemuImg('convert', '-O', 'qcow2', tmp.path('d.raw'), tmp.path('d.qcow2'));
    for (const file of ['d.raw', 'd.qcow2']) {
      for (const cache of ['none', 'writeback'] as const) {
        for (const depth of [1, 32]) {
          const read = await bench(tmp.path(file), { count: 300, depth, cache });
          expect(read.requests).toBe(300);
          expect(read.opsPerSecond).toBeGreaterThan(0);
          await bench(tmp.path(file), { count: 100, depth, cache, write: true, pattern: 0x5a, offset: 8192, step: 8192 });
        }
      }
    }
    // 100 writes of 4 KiB every 8 KiB from 8 KiB: those ranges hold 0x5a, the rest is untouched.
    const expected = Buffer.from(readFileSync(tmp.path('d.raw')));
    qemuImg('convert', '-O', 'raw', tmp.path('d.qcow2'), tmp.path('d-qcow2.raw'));
    const fromQcow2 = readFileSync(tmp.path('d-qcow2.raw'));
    for (let i = 0; i < 100; i++) {
      const at = 8192 + i * 8192;
      expect(expected.subarray(at, at + 4096).every((b) => b === 0x5a)).toBe(true);
      expect(fromQcow2.subarray(at, at + 4096).every((b) => b === 0x5a)).toBe(true);
    }
    expect(qemuImgStatus('check', tmp.path('d.qcow2')).status).toBe(0);
    expect(Buffer.compare(expected.subarray(0, 8192), fromQcow2.subarray(0, 8192))).toBe(0);
  });

  it('allocates on writes to an empty qcow2 image, with O_DIRECT', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', tmp.path('empty.qcow2'), '4M');
    await bench(tmp.path('empty.qcow2'), { count: 200, depth: 32, cache: 'none', write: true, pattern: 7, size: 4096, step: 12288 });
    expect(qemuImgStatus('check', tmp.path('empty.qcow2')).status).toBe(0);
  });
  it('refuses an empty request size and buffers over 1 GiB with one message naming the image', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', tmp.path('big.qcow2'), '8G');
    await expect(bench(tmp.path('big.qcow2'), { count: 1, size: 0 })).rejects.toMatchObject({ code: 'EIMG_BAD_OPTION', message: expect.stringMatching(/big\.qcow2: request size 0 is not a positive/) });
    await expect(bench(tmp.path('big.qcow2'), { count: 100, depth: 64, size: 1024 ** 3 })).rejects.toMatchObject({
      code: 'EIMG_BAD_OPTION',
      message: expect.stringMatching(/big\.qcow2: 64 requests of 1073741824 bytes in flight need 68719476736 bytes of buffers, over the 1073741824-byte limit$/),
    });
  });
  it('refuses counts, depths, patterns and flush intervals it cannot run, before opening the image', async () => {
    const missing = tmp.path('not-there.qcow2');
    for (const [options, reason] of [
      [{ count: 0 }, 'count 0: the number of requests must be at least 1'],
      [{ depth: 0 }, 'depth 0: requests in flight must be at least 1'],
      [{ pattern: 256 }, 'pattern 256: a byte is 0 to 255'],
      [{ flushInterval: -1 }, 'flush interval -1: must be a whole number, not negative'],
    ] as const) {
      await expect(bench(missing, options)).rejects.toMatchObject({ code: 'EIMG_BAD_OPTION', message: `${missing}: ${reason}` });
    }
  });
});
