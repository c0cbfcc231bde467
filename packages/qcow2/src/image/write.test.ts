// Writing: random writes against an in-memory model, on images isola creates and on images qemu-img
// made (overlays, compressed, v2). qemu-img check must find no errors or leaks, and qemu-img compare
// must find the disk equal to a raw file of the model.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, tempDir, writeRaw } from '../../test/qemu.js';
import type { Image } from './image.js';
import { createImage, openImage } from './open.js';
import { expectContent, expectQemuAgrees, rng } from '../../test/model.js';

const tmp = tempDir('write');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

/** Writes `count` random pieces (sizes from 1 byte to maxLength) to both the image and the model. */
async function randomWrites(image: Image, model: Buffer, count: number, maxLength: number, seed: number): Promise<void> {
  const next = rng(seed);
  for (let i = 0; i < count; i++) {
    const length = 1 + next(Math.min(maxLength, model.length));
    const offset = next(model.length - length + 1);
    const data = randomBytes(length);
    await image.write(data, offset);
    data.copy(model, offset);
  }
}

describe('createImage', () => {
  const cases = [
    { name: 'v3-64k', clusterSize: 65536, version: 3 as const, refcountBits: 16, size: 6 * 1024 * 1024 + 4096 },
    { name: 'v2-4k', clusterSize: 4096, version: 2 as const, refcountBits: 16, size: 2 * 1024 * 1024 + 512 },
    { name: 'v3-2m', clusterSize: 2 * 1024 * 1024, version: 3 as const, refcountBits: 16, size: 9 * 1024 * 1024 },
    ...[1, 2, 4, 8, 32, 64].map((bits) => ({ name: `v3-512-r${bits}`, clusterSize: 512, version: 3 as const, refcountBits: bits, size: 1024 * 1024 })),
  ];
  for (const c of cases) {
    it(`creates ${c.name}, takes random writes, and qemu-img agrees`, async () => {
      const path = tmp.path(`${c.name}.qcow2`);
      const model = Buffer.alloc(c.size);
      const image = await createImage(path, c);
      expectQemuAgrees(path, model, tmp.path(`${c.name}-empty.expected.raw`));
      await randomWrites(image, model, 60, c.clusterSize * 3, c.clusterSize + c.refcountBits);
      await expectContent(image, model);
      await image.close();
      expect(JSON.parse(qemuImg('info', '--output=json', path))).toMatchObject({
        'virtual-size': c.size,
        'cluster-size': c.clusterSize,
        'format-specific': { data: { compat: c.version === 2 ? '0.10' : '1.1' } },
      });
      expectQemuAgrees(path, model, tmp.path(`${c.name}.expected.raw`));
      const reopened = await openImage(path, { readOnly: true });
      await expectContent(reopened, model);
      await reopened.close();
    });
  }

  it('grows the refcount table and blocks when a small-cluster image fills up', async () => {
    // 512-byte clusters and 64-bit refcounts: one block counts 64 clusters, one table cluster 4096.
    const path = tmp.path('grow.qcow2');
    const model = pattern(4 * 1024 * 1024, 5);
    const image = await createImage(path, { size: model.length, clusterSize: 512, refcountBits: 64 });
    await image.write(model.subarray(0, 1024 * 1024), 0);
    for (let at = 1024 * 1024; at < model.length; at += 300_000) {
      await image.write(model.subarray(at, Math.min(model.length, at + 300_000)), at);
    }
    await expectContent(image, model);
    await image.close();
    expectQemuAgrees(path, model, tmp.path('grow.expected.raw'));
  });

  it('creates an overlay whose size and format come from its backing file', async () => {
    const base = pattern(512 * 1024, 9);
    writeRaw(tmp.path('ov-base.raw'), base);
    const image = await createImage(tmp.path('ov.qcow2'), { backingFile: 'ov-base.raw', clusterSize: 4096 });
    expect(image.size).toBe(base.length);
    expect(image.info()).toMatchObject({ backingFile: 'ov-base.raw', backingFormat: 'raw' });
    const model = Buffer.from(base);
    await randomWrites(image, model, 40, 10_000, 11);
    await image.close();
    expectQemuAgrees(tmp.path('ov.qcow2'), model, tmp.path('ov.expected.raw'));
  });
});

describe('writing qemu-img images', () => {
  const source = pattern(2 * 1024 * 1024, 13);
  writeRaw(tmp.path('src.raw'), source);

  it('copies on write from a qcow2 backing file, partial clusters included', async () => {
    qemuImg('convert', '-O', 'qcow2', tmp.path('src.raw'), tmp.path('cow-base.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=8192', '-b', 'cow-base.qcow2', '-F', 'qcow2', tmp.path('cow.qcow2'));
    const image = await openImage(tmp.path('cow.qcow2'));
    const model = Buffer.from(source);
    await randomWrites(image, model, 80, 20_000, 17);
    await image.close();
    expectQemuAgrees(tmp.path('cow.qcow2'), model, tmp.path('cow.expected.raw'));
  });

  it('replaces compressed clusters and frees them (v3 and v2)', async () => {
    for (const compat of ['1.1', '0.10']) {
      const path = tmp.path(`comp-${compat}.qcow2`);
      qemuImg('convert', '-c', '-O', 'qcow2', '-o', `cluster_size=4096,compat=${compat}`, tmp.path('src.raw'), path);
      const image = await openImage(path);
      const model = Buffer.from(source);
      await randomWrites(image, model, 80, 9000, 19);
      await image.close();
      expectQemuAgrees(path, model, tmp.path(`comp-${compat}.expected.raw`));
    }
  });

  it('writes in place into clusters qemu allocated, and refuses read-only and out-of-range writes', async () => {
    const path = tmp.path('inplace.qcow2');
    qemuImg('convert', '-O', 'qcow2', '-o', 'cluster_size=16384', tmp.path('src.raw'), path);
    const before = Number(JSON.parse(qemuImg('info', '--output=json', path))['actual-size']);
    const image = await openImage(path);
    const model = Buffer.from(source);
    // Clusters of data that is not all zeros are allocated; overwrite inside them only.
    await image.write(Buffer.alloc(100, 1), 100);
    Buffer.alloc(100, 1).copy(model, 100);
    await expect(image.write(Buffer.alloc(10), source.length - 5)).rejects.toMatchObject({ code: 'EIMG_OUT_OF_RANGE' });
    await image.close();
    expect(Number(JSON.parse(qemuImg('info', '--output=json', path))['actual-size'])).toBe(before);
    expectQemuAgrees(path, model, tmp.path('inplace.expected.raw'));
    const ro = await openImage(path, { readOnly: true });
    await expect(ro.write(Buffer.alloc(1), 0)).rejects.toMatchObject({ code: 'EIMG_READ_ONLY' });
    await ro.close();
    await expect(ro.read(Buffer.alloc(1), 0)).rejects.toMatchObject({ code: 'EIMG_CLOSED' });
  });
});
