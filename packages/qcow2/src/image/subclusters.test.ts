// Writing extended L2 (subcluster) images: random writes against a model on images isola creates and on
// overlays qemu-img made; qemu-img check must find nothing, qemu-img compare must find the model, and
// qemu-img map must show that a small write allocates only the subclusters it touches.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, tempDir, writeRaw } from '../../test/qemu.js';
import type { Image } from './image.js';
import { createImage, openImage } from './open.js';
import type { Qcow2Image } from './qcow2-image.js';
import { expectContent, expectQemuAgrees, rng } from '../../test/model.js';

const tmp = tempDir('subclusters');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img', 'qemu-io'] });

/** Random writes, mostly smaller than a subcluster, some spanning clusters; a few zeroed or discarded ranges. */
async function randomWrites(image: Image, model: Buffer, count: number, clusterSize: number, seed: number, zeroes = false): Promise<void> {
  const next = rng(seed);
  for (let i = 0; i < count; i++) {
    const length = 1 + next(next(4) === 0 ? clusterSize * 3 : clusterSize / 16);
    const offset = next(model.length - length + 1);
    if (zeroes && next(8) === 0) {
      await image.writeZeroes(offset, length);
      model.fill(0, offset, offset + length);
      continue;
    }
    const data = randomBytes(length);
    await image.write(data, offset);
    data.copy(model, offset);
  }
}

describe('extended L2 writes', () => {
  for (const clusterSize of [16384, 65536, 2 * 1024 * 1024]) {
    it(`creates an extended L2 image with ${clusterSize}-byte clusters, takes random writes, and qemu-img agrees`, async () => {
      const path = tmp.path(`ext-${clusterSize}.qcow2`);
      const size = Math.max(4 * 1024 * 1024, 3 * clusterSize) + 4096;
      const model = Buffer.alloc(size);
      const image = await createImage(path, { size, clusterSize, extendedL2: true });
      expect(image.info()).toMatchObject({ extendedL2: true });
      await randomWrites(image, model, 120, clusterSize, clusterSize, true);
      await expectContent(image, model);
      await image.close();
      expect(JSON.parse(qemuImg('info', '--output=json', path))).toMatchObject({ 'format-specific': { data: { 'extended-l2': true } } });
      expectQemuAgrees(path, model, tmp.path(`ext-${clusterSize}.expected.raw`));
    });
  }

  it('allocates only the touched subclusters of an overlay, leaving the rest to the backing file', async () => {
    const base = pattern(1024 * 1024, 31);
    writeRaw(tmp.path('base.raw'), base);
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on,cluster_size=65536', '-b', 'base.raw', '-F', 'raw', tmp.path('overlay.qcow2'));
    const image = await openImage(tmp.path('overlay.qcow2'));
    const model = Buffer.from(base);
    // One byte in subcluster 3 of cluster 1, then a write across subclusters 5..6 of the same cluster.
    const writes: [number, number][] = [
      [65536 + 3 * 2048 + 100, 1],
      [65536 + 5 * 2048 + 2000, 100],
    ];
    for (const [offset, length] of writes) {
      const data = Buffer.alloc(length, 0xee);
      await image.write(data, offset);
      data.copy(model, offset);
    }
    await image.close();
    expectQemuAgrees(tmp.path('overlay.qcow2'), model, tmp.path('overlay.expected.raw'));
    const map = JSON.parse(qemuImg('map', '--output=json', tmp.path('overlay.qcow2'))) as { start: number; length: number; depth: number }[];
    const own = map.filter((e) => e.depth === 0).map((e) => [e.start, e.length]);
    expect(own).toEqual([
      [65536 + 3 * 2048, 2048],
      [65536 + 5 * 2048, 2 * 2048],
    ]);
  });

  it('writes over subclusters qemu allocated, zeroed and left to the backing file', async () => {
    const base = pattern(2 * 1024 * 1024, 37);
    writeRaw(tmp.path('base2.raw'), base);
    const path = tmp.path('mixed.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on,cluster_size=32768', '-b', 'base2.raw', '-F', 'raw', path);
    const model = Buffer.from(base);
    // qemu-io leaves clusters with every mix of allocated, zero and unallocated subclusters.
    for (let c = 0; c < 40; c++) {
      const at = c * 32768 + (c % 7) * 1024;
      execQemuIo(path, c % 3 === 0 ? `write -z ${at} 3k` : `write -P ${c + 1} ${at} 3k`);
      model.fill(c % 3 === 0 ? 0 : c + 1, at, at + 3072);
    }
    const image = await openImage(path);
    await randomWrites(image, model, 150, 32768, 5, true);
    await expectContent(image, model);
    await image.close();
    expectQemuAgrees(path, model, tmp.path('mixed.expected.raw'));
  });

  it('copies shared subcluster clusters on write after a snapshot', async () => {
    const path = tmp.path('snap.qcow2');
    const model = Buffer.alloc(2 * 1024 * 1024);
    const image = (await createImage(path, { size: model.length, clusterSize: 65536, extendedL2: true })) as Qcow2Image;
    await randomWrites(image, model, 40, 65536, 3);
    await image.createSnapshot('before');
    const before = Buffer.from(model);
    await randomWrites(image, model, 40, 65536, 4, true);
    await expectContent(image, model);
    await image.close();
    expectQemuAgrees(path, model, tmp.path('snap-after.expected.raw'));
    const again = (await openImage(path)) as Qcow2Image;
    await again.applySnapshot('before');
    await expectContent(again, before);
    await again.close();
    expectQemuAgrees(path, before, tmp.path('snap-before.expected.raw'));
  });

  it('refuses bad subcluster bitmaps with a typed error, and writes nothing', async () => {
    const path = tmp.path('bitmaps.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on,cluster_size=65536', path, '1M');
    execQemuIo(path, 'write -P 7 0 4k');
    const valid = readFileSync(path);
    const l1 = Number(valid.readBigUInt64BE(40));
    const l2 = Number(valid.readBigUInt64BE(l1) & 0x00fffffffffffe00n);
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['allocated and zero at once', (b) => b.writeUInt32BE(0b11, l2 + 8), /both allocated and zero/],
      ['allocated without a host cluster', (b) => b.writeBigUInt64BE(0n, l2), /allocated subclusters but no host cluster/],
      ['the zero flag of a plain entry', (b) => (b[l2 + 7] |= 1), /reserved bits/],
    ];
    for (const [what, patch, message] of cases) {
      const bytes = Buffer.from(valid);
      patch(bytes);
      writeFileSync(path, bytes);
      for (const readOnly of [true, false]) {
        const error = await (async () => {
          const image = await openImage(path, { readOnly });
          try {
            await image.read(Buffer.alloc(4096), 0);
            if (!readOnly) await image.write(Buffer.alloc(100, 1), 10);
          } finally {
            await image.close();
          }
        })().catch((e: unknown) => e);
        expect(error, what).toMatchObject({ code: 'EQCOW2_BAD_L2_ENTRY', message: expect.stringMatching(message) });
      }
      expect(readFileSync(path).equals(bytes), `${what}: file unchanged`).toBe(true);
    }
  });

  it('refuses extended L2 entries on small clusters and version 2', async () => {
    await expect(createImage(tmp.path('small.qcow2'), { size: 1 << 20, clusterSize: 8192, extendedL2: true })).rejects.toMatchObject({
      code: 'EIMG_BAD_OPTION',
      message: expect.stringMatching(/16 KiB/),
    });
    await expect(createImage(tmp.path('v2.qcow2'), { size: 1 << 20, version: 2, extendedL2: true })).rejects.toMatchObject({ code: 'EIMG_BAD_OPTION' });
  });
});

function execQemuIo(path: string, command: string): void {
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', command, path], { stdio: 'ignore' });
}
