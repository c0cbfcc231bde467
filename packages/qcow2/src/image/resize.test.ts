// Resize: growing within the L1 table and past it (the table moves), growth reading zeros where an old
// tail or a longer backing file held data, and shrinking refused while data lies past the new end.
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, tempDir, writeRaw } from '../../test/qemu.js';
import { createImage, openImage } from './open.js';
import { expectQemuAgrees as expectModel } from '../../test/model.js';

const tmp = tempDir('resize');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

/** qemu-img sees the new size, and agrees with the model (test/model.ts). */
function expectQemuAgrees(path: string, model: Buffer, name: string): void {
  expect(JSON.parse(qemuImg('info', '--output=json', path))['virtual-size']).toBe(model.length);
  expectModel(path, model, tmp.path(`${name}.raw`));
}

describe('resize', () => {
  it('grows past what the L1 table maps (512-byte clusters), moving the table', async () => {
    const path = tmp.path('grow.qcow2');
    // 512-byte clusters: one L2 table maps 32 KiB, one L1 cluster 2 MiB.
    const image = await createImage(path, { size: 100_352, clusterSize: 512 });
    const data = pattern(100_352, 41);
    await image.write(data, 0);
    await image.resize(5 * 1024 * 1024 + 512);
    const model = Buffer.alloc(5 * 1024 * 1024 + 512);
    data.copy(model);
    await image.write(Buffer.alloc(1000, 9), 4 * 1024 * 1024);
    model.fill(9, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1000);
    expect(image.size).toBe(model.length);
    await image.close();
    expectQemuAgrees(path, model, 'grow');
  });

  it('reads zeros in grown space where the old last cluster and a longer backing file had data', async () => {
    writeRaw(tmp.path('long.raw'), pattern(256 * 1024, 43));
    const path = tmp.path('tail.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=65536', '-b', 'long.raw', '-F', 'raw', path, '99840');
    const image = await openImage(path);
    await image.write(Buffer.alloc(99_840, 5), 0);
    await image.resize(199_680);
    await image.close();
    const model = Buffer.alloc(199_680);
    model.fill(5, 0, 99_840);
    expectQemuAgrees(path, model, 'tail');
  });

  it('shrinks when nothing lies past the new end, and refuses when something does', async () => {
    const path = tmp.path('shrink.qcow2');
    const image = await createImage(path, { size: 4 * 1024 * 1024, clusterSize: 65536 });
    await image.write(Buffer.alloc(69_632, 3), 0);
    await image.write(Buffer.alloc(10, 4), 3 * 1024 * 1024);
    await expect(image.resize(2 * 1024 * 1024)).rejects.toMatchObject({ code: 'EIMG_WOULD_LOSE_DATA' });
    await expect(image.resize(68_608)).rejects.toMatchObject({ code: 'EIMG_WOULD_LOSE_DATA' });
    await image.discard(3 * 1024 * 1024, 65536);
    await image.resize(69_632);
    expect(image.size).toBe(69_632);
    await image.close();
    expectQemuAgrees(path, Buffer.alloc(69_632, 3), 'shrink');
    const raw = tmp.path('shrink.raw');
    writeRaw(raw, Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(1000)]));
    const rawImage = await openImage(raw);
    await expect(rawImage.resize(999)).rejects.toMatchObject({ code: 'EIMG_WOULD_LOSE_DATA' });
    await rawImage.resize(1000);
    await rawImage.resize(4096);
    expect(rawImage.size).toBe(4096);
    await rawImage.close();
  });
});
