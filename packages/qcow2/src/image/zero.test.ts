// Zero clusters and discard: whole clusters become zero clusters (v3) or unallocated and their host
// clusters are freed; partial ones are written (zero) or left (discard). qemu-img check and compare
// against an in-memory model are the oracle, qemu-img map shows what was deallocated.
import { statSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, tempDir, writeRaw } from '../../test/qemu.js';
import { createImage, openImage } from './open.js';
import { expectQemuAgrees } from '../../test/model.js';

const tmp = tempDir('zero');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

interface MapEntry { start: number; length: number; data: boolean; zero: boolean }
function dataBytes(path: string): number {
  const map = JSON.parse(qemuImg('map', '--output=json', path)) as MapEntry[];
  return map.filter((m) => m.data).reduce((sum, m) => sum + m.length, 0);
}

describe('writeZeroes and discard', () => {
  for (const version of [3, 2] as const) {
    it(`zeroes and discards ranges of a v${version} image, freeing whole clusters`, async () => {
      const cs = 4096;
      const size = 1024 * 1024;
      const path = tmp.path(`z${version}.qcow2`);
      const model = pattern(size, 31);
      const image = await createImage(path, { size, clusterSize: cs, version });
      await image.write(model, 0);
      const before = dataBytes(path);
      await image.writeZeroes(10_000, 300_000); // partial head and tail, whole clusters between
      model.fill(0, 10_000, 310_000);
      await image.discard(500_000, 200_000); // partial ends are left as they are
      model.fill(0, Math.ceil(500_000 / cs) * cs, Math.floor(700_000 / cs) * cs);
      await image.writeZeroes(size - 5000, 5000); // the last, partial cluster of a write range
      model.fill(0, size - 5000);
      const back = Buffer.alloc(size);
      await image.read(back, 0);
      expect(back.equals(model)).toBe(true);
      await image.close();
      expectQemuAgrees(path, model, tmp.path(`z${version}.expected.raw`));
      expect(dataBytes(path)).toBeLessThan(before - 400_000);
      // Freed clusters are reused: rewriting the zeroed range must not grow the file.
      const again = await openImage(path);
      const { size: fileBefore } = await import('node:fs').then((fs) => fs.statSync(path));
      const fresh = pattern(200_000, 3);
      await again.write(fresh, 20_000);
      fresh.copy(model, 20_000);
      await again.close();
      expect((await import('node:fs')).statSync(path).size).toBeLessThanOrEqual(fileBefore);
      expectQemuAgrees(path, model, tmp.path(`z${version}-again.expected.raw`));
    });
  }

  it('gives discarded clusters\' space back to the file system (holes in the image file), as qemu does', async () => {
    const cs = 65536;
    const size = 8 * 1024 * 1024;
    const path = tmp.path('punch.qcow2');
    const model = pattern(size, 5).fill(9, 0, size);
    const image = await createImage(path, { size, clusterSize: cs });
    await image.write(model, 0);
    await image.flush();
    const before = statSync(path).blocks * 512;
    await image.discard(cs, 6 * 1024 * 1024); // 6 MiB of whole clusters
    model.fill(0, cs, cs + 6 * 1024 * 1024);
    await image.close();
    const after = statSync(path).blocks * 512;
    expect(before - after).toBeGreaterThanOrEqual(6 * 1024 * 1024);
    expect(statSync(path).size).toBeGreaterThan(size); // the file keeps its length: holes, not truncation
    expectQemuAgrees(path, model, tmp.path('punch.expected.raw'));
  });

  it('zeroes over a backing file with zero clusters (v3), and with written zeros (v2)', async () => {
    const base = pattern(512 * 1024, 37);
    writeRaw(tmp.path('zb.raw'), base);
    for (const compat of ['1.1', '0.10']) {
      const path = tmp.path(`zb-${compat}.qcow2`);
      qemuImg('create', '-q', '-f', 'qcow2', '-o', `cluster_size=8192,compat=${compat}`, '-b', 'zb.raw', '-F', 'raw', path);
      const image = await openImage(path);
      const model = Buffer.from(base);
      await image.writeZeroes(8192 * 3, 8192 * 10);
      model.fill(0, 8192 * 3, 8192 * 13);
      await image.write(Buffer.alloc(100, 7), 8192 * 20);
      model.fill(7, 8192 * 20, 8192 * 20 + 100);
      await image.writeZeroes(8192 * 20, 8192);
      model.fill(0, 8192 * 20, 8192 * 21);
      await image.close();
      expectQemuAgrees(path, model, tmp.path(`zb-${compat}.expected.raw`));
    }
  });
});
