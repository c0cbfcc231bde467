// Internal snapshots: create, write on (copying shared L2 tables and clusters), apply and delete,
// with qemu-img check clean after every step and qemu-img reading the same snapshots back; and images
// with snapshots made by qemu-img are written to without disturbing them.
import { statSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, qemuImgStatus, tempDir, writeRaw } from '../../test/qemu.js';
import { createImage, openImage } from './open.js';
import type { Qcow2Image } from './qcow2-image.js';

const tmp = tempDir('snapshots');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

function expectClean(path: string): void {
  const check = qemuImgStatus('check', path);
  expect(check.output).not.toMatch(/ERROR|Leaked/);
  expect(check.status).toBe(0);
}

/** The disk content qemu-img sees in snapshot `name` (or the active state). */
function qemuContent(path: string, name: string | undefined, out: string): void {
  qemuImg('convert', '-O', 'raw', ...(name === undefined ? [] : ['-l', `snapshot.name=${name}`]), path, tmp.path(out));
}

describe('internal snapshots', () => {
  it('creates, writes over, applies and deletes snapshots; qemu-img agrees at every step', async () => {
    const path = tmp.path('s.qcow2');
    const size = 2 * 1024 * 1024;
    const image = (await createImage(path, { size, clusterSize: 4096 })) as Qcow2Image;
    const v1 = pattern(size, 101);
    await image.write(v1, 0);
    await image.createSnapshot('one');
    const v2 = Buffer.from(v1);
    v2.fill(7, 100_000, 900_000);
    await image.write(v2.subarray(100_000, 900_000), 100_000);
    await image.writeZeroes(1024 * 1024, 65536);
    v2.fill(0, 1024 * 1024, 1024 * 1024 + 65536);
    await image.createSnapshot('two');
    await image.write(Buffer.alloc(5000, 3), 50_000);
    await image.flush();
    expectClean(path);
    expect(qemuImg('snapshot', '-l', path)).toMatch(/one[\s\S]*two/);
    writeRaw(tmp.path('v1.raw'), v1);
    writeRaw(tmp.path('v2.raw'), v2);
    qemuContent(path, 'one', 'one.raw');
    qemuContent(path, 'two', 'two.raw');
    expect(qemuImgStatus('compare', '-f', 'raw', '-F', 'raw', tmp.path('one.raw'), tmp.path('v1.raw')).status).toBe(0);
    expect(qemuImgStatus('compare', '-f', 'raw', '-F', 'raw', tmp.path('two.raw'), tmp.path('v2.raw')).status).toBe(0);

    await image.applySnapshot('one');
    const back = Buffer.alloc(size);
    await image.read(back, 0);
    expect(back.equals(v1)).toBe(true);
    await image.deleteSnapshot('one');
    await image.write(Buffer.alloc(10, 1), 0);
    v1.fill(1, 0, 10);
    await image.close();
    expectClean(path);
    expect(qemuImgStatus('compare', '-F', 'raw', path, tmp.path('v1.raw')).status).toBe(1); // v1 changed in memory only
    writeRaw(tmp.path('v1b.raw'), v1);
    expect(qemuImgStatus('compare', '-F', 'raw', path, tmp.path('v1b.raw')).status).toBe(0);
    qemuContent(path, 'two', 'two-after.raw');
    expect(qemuImgStatus('compare', '-f', 'raw', '-F', 'raw', tmp.path('two-after.raw'), tmp.path('v2.raw')).status).toBe(0);
    qemuImg('snapshot', '-d', 'two', path);
    expectClean(path);
  });

  it('gives the space only a deleted snapshot held back to the file system, as qemu-img does', async () => {
    const path = tmp.path('space.qcow2');
    const size = 4 * 1024 * 1024;
    const image = (await createImage(path, { size, clusterSize: 65536 })) as Qcow2Image;
    const v1 = pattern(size, 7).fill(1, 0, size); // every cluster data
    await image.write(v1, 0);
    await image.createSnapshot('old');
    const v2 = Buffer.alloc(size, 2);
    await image.write(v2, 0); // every cluster copied: the snapshot alone holds the first 4 MiB
    await image.flush();
    const withSnapshot = statSync(path).blocks * 512;
    await image.deleteSnapshot('old');
    await image.close();
    const after = statSync(path).blocks * 512;
    expect(withSnapshot - after).toBeGreaterThanOrEqual(size);
    expectClean(path);
    writeRaw(tmp.path('space.raw'), v2);
    expect(qemuImgStatus('compare', '-F', 'raw', path, tmp.path('space.raw')).status).toBe(0);
  });

  it('writes to an image with snapshots made by qemu-img without changing them', async () => {
    const data = pattern(1024 * 1024, 103);
    writeRaw(tmp.path('q.raw'), data);
    const path = tmp.path('q.qcow2');
    qemuImg('convert', '-O', 'qcow2', '-o', 'cluster_size=65536', tmp.path('q.raw'), path);
    qemuImg('snapshot', '-c', 'base', path);
    const image = await openImage(path);
    await image.write(Buffer.alloc(200_000, 9), 30_000);
    await image.close();
    expectClean(path);
    qemuContent(path, 'base', 'q-base.raw');
    expect(qemuImgStatus('compare', '-f', 'raw', '-F', 'raw', tmp.path('q-base.raw'), tmp.path('q.raw')).status).toBe(0);
    qemuImg('snapshot', '-a', 'base', path);
    expect(qemuImgStatus('compare', '-F', 'raw', path, tmp.path('q.raw')).status).toBe(0);
    expectClean(path);
  });
  it('refuses a snapshot name longer than qemu keeps (255 bytes), leaving the image as it was', async () => {
    const path = tmp.path('long-name.qcow2');
    const image = (await createImage(path, { size: 1024 * 1024 })) as Qcow2Image;
    try {
      await expect(image.createSnapshot('a'.repeat(70_000))).rejects.toMatchObject({
        code: 'EIMG_BAD_OPTION',
        message: expect.stringMatching(/long-name\.qcow2: snapshot name of 70000 bytes is longer than qemu's 255$/),
      });
      await image.createSnapshot('é'.repeat(127)); // 254 bytes
    } finally {
      await image.close();
    }
    expect(qemuImg('snapshot', '-l', path)).toContain('é'.repeat(127));
    expectClean(path);
  });
});
