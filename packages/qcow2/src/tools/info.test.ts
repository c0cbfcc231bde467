// info and map: the same JSON as qemu-img info and qemu-img map on the same files.
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, tempDir, writeRaw } from '../../test/qemu.js';
import { openImage } from '../image/open.js';
import { formatInfo, imageInfo } from './info.js';
import { mapImage, mapJson } from './map.js';

const tmp = tempDir('info');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

describe('info and map', () => {
  const data = pattern(1024 * 1024, 71);
  data.fill(0, 300_000, 700_000);
  writeRaw(tmp.path('data.raw'), data);
  const images = ['data.raw', 'plain.qcow2', 'v2.qcow2', 'comp.qcow2', 'top.qcow2', 'snap.qcow2', 'lazy.qcow2'];

  it('reports what qemu-img info reports, in JSON and as text', async () => {
    qemuImg('convert', '-O', 'qcow2', '-o', 'cluster_size=4096', tmp.path('data.raw'), tmp.path('plain.qcow2'));
    qemuImg('convert', '-O', 'qcow2', '-o', 'compat=0.10', tmp.path('data.raw'), tmp.path('v2.qcow2'));
    qemuImg('convert', '-c', '-O', 'qcow2', tmp.path('data.raw'), tmp.path('comp.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=8192', '-b', 'comp.qcow2', '-F', 'qcow2', tmp.path('top.qcow2'));
    qemuImg('convert', '-O', 'qcow2', tmp.path('data.raw'), tmp.path('snap.qcow2'));
    qemuImg('snapshot', '-c', 'first', tmp.path('snap.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', tmp.path('lazy.qcow2'), '1G');
    for (const name of images) {
      const path = tmp.path(name);
      const [ours] = await imageInfo(path);
      expect(ours).toEqual(JSON.parse(qemuImg('info', '--output=json', path)));
      expect(formatInfo(ours)).toBe(qemuImg('info', path));
    }
    const chain = await imageInfo(tmp.path('top.qcow2'), { backingChain: true });
    expect(chain).toEqual(JSON.parse(qemuImg('info', '--output=json', '--backing-chain', tmp.path('top.qcow2'))));
  });

  it('maps what qemu-img map maps, through backing chains, zero and compressed clusters', async () => {
    const top = await openImage(tmp.path('top.qcow2'));
    await top.write(Buffer.alloc(10_000, 1), 20_000);
    await top.writeZeroes(8192 * 60, 8192 * 4);
    await top.close();
    for (const name of images) {
      const image = await openImage(tmp.path(name), { readOnly: true });
      const ours = mapJson(await mapImage(image));
      await image.close();
      // Raw files: Node has no SEEK_DATA, so holes show as data (qemu reports them as zero).
      if (name !== 'data.raw') expect(ours).toBe(qemuImg('map', '--output=json', tmp.path(name)));
    }
  });
});
