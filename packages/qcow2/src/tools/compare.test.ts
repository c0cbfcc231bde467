// compare, commit and rebase against qemu-img: same verdicts and messages, and images that read the
// same as qemu-img's results.
import { copyFileSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, qemuImgStatus, tempDir, writeRaw } from '../../test/qemu.js';
import { commit } from './commit.js';
import { compareImages, formatCompare } from './compare.js';
import { rebase } from './rebase.js';

const tmp = tempDir('compare');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

describe('compare, commit, rebase', () => {
  const base = pattern(1024 * 1024, 81);
  writeRaw(tmp.path('base.raw'), base);

  it('compares like qemu-img compare (identical, content, size, strict)', async () => {
    const other = Buffer.from(base);
    other[777_777] ^= 1;
    writeRaw(tmp.path('other.raw'), other);
    writeRaw(tmp.path('longer.raw'), Buffer.concat([base, Buffer.alloc(4096)]));
    writeRaw(tmp.path('longer-data.raw'), Buffer.concat([base, Buffer.alloc(4096, 1)]));
    qemuImg('convert', '-O', 'qcow2', tmp.path('base.raw'), tmp.path('base.qcow2'));
    const cases: [string, string, boolean][] = [
      ['base.qcow2', 'base.raw', false],
      ['base.qcow2', 'other.raw', false],
      ['base.qcow2', 'longer.raw', false],
      ['base.qcow2', 'longer-data.raw', false],
      ['base.qcow2', 'longer.raw', true],
    ];
    for (const [a, b, strict] of cases) {
      const qemu = qemuImgStatus('compare', ...(strict ? ['-s'] : []), tmp.path(a), tmp.path(b));
      const ours = await compareImages(tmp.path(a), tmp.path(b), { strict });
      expect(formatCompare(ours)).toBe(qemu.output);
      expect(ours.identical ? 0 : 1).toBe(qemu.status);
    }
  });

  it('commits an overlay into its backing file and empties it, as qemu-img commit does', async () => {
    writeRaw(tmp.path('cb.raw'), base);
    copyFileSync(tmp.path('cb.raw'), tmp.path('cb-qemu.raw'));
    const model = Buffer.from(base);
    model.fill(9, 10_000, 300_000);
    model.fill(0, 500_000, 600_000);
    writeRaw(tmp.path('expected.raw'), model);
    // An overlay holding exactly what differs: made on the expected content, then safely rebased.
    for (const [top, under] of [['ct.qcow2', 'cb.raw'], ['ct-qemu.qcow2', 'cb-qemu.raw']]) {
      qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b', 'expected.raw', '-F', 'raw', tmp.path(top));
      qemuImg('rebase', '-f', 'qcow2', '-b', under, '-F', 'raw', tmp.path(top));
    }
    await commit(tmp.path('ct.qcow2'));
    qemuImg('commit', '-q', tmp.path('ct-qemu.qcow2'));
    expect(qemuImgStatus('compare', '-f', 'raw', '-F', 'raw', tmp.path('cb.raw'), tmp.path('expected.raw')).status).toBe(0);
    expect(qemuImgStatus('compare', tmp.path('ct.qcow2'), tmp.path('expected.raw')).status).toBe(0);
    expect(qemuImgStatus('check', tmp.path('ct.qcow2')).status).toBe(0);
    const map = (p: string): unknown => JSON.parse(qemuImg('map', '--output=json', p)).map((e: { depth: number; data: boolean }) => [e.depth, e.data]);
    expect(map(tmp.path('ct.qcow2'))).toEqual(map(tmp.path('ct-qemu.qcow2')));
  });

  it('rebases safely (copying what differs), unsafely, and onto no backing file', async () => {
    const next = Buffer.from(base);
    next.fill(3, 100_000, 200_000);
    writeRaw(tmp.path('next.raw'), next);
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b', 'base.raw', '-F', 'raw', tmp.path('rt.qcow2'));
    await rebase(tmp.path('rt.qcow2'), { backingFile: 'next.raw', backingFormat: 'raw' });
    expect(JSON.parse(qemuImg('info', '--output=json', tmp.path('rt.qcow2')))).toMatchObject({ 'backing-filename': 'next.raw', 'backing-filename-format': 'raw' });
    expect(qemuImgStatus('compare', tmp.path('rt.qcow2'), tmp.path('base.raw')).status).toBe(0);
    expect(qemuImgStatus('check', tmp.path('rt.qcow2')).status).toBe(0);
    const allocated = JSON.parse(qemuImg('check', '--output=json', tmp.path('rt.qcow2')).toString())['allocated-clusters'];
    expect(allocated).toBe(Math.ceil(200_000 / 4096) - Math.floor(100_000 / 4096)); // only the clusters that differ
    await rebase(tmp.path('rt.qcow2'), { backingFile: 'base.raw', backingFormat: 'raw', unsafe: true });
    expect(qemuImgStatus('compare', tmp.path('rt.qcow2'), tmp.path('base.raw')).status).toBe(0);
    await rebase(tmp.path('rt.qcow2'), { backingFile: '' });
    expect(JSON.parse(qemuImg('info', '--output=json', tmp.path('rt.qcow2')))['backing-filename']).toBeUndefined();
    expect(qemuImgStatus('compare', tmp.path('rt.qcow2'), tmp.path('base.raw')).status).toBe(0);
  });

  it('refuses a safe rebase onto the image itself or onto an overlay of it, leaving the image as it was', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', tmp.path('loop.qcow2'), '1M');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'loop.qcow2', '-F', 'qcow2', tmp.path('loop-over.qcow2'));
    const before = readFileSync(tmp.path('loop.qcow2'));
    for (const backingFile of ['loop.qcow2', 'loop-over.qcow2']) {
      await expect(rebase(tmp.path('loop.qcow2'), { backingFile, backingFormat: 'qcow2' })).rejects.toMatchObject({
        code: 'EQCOW2_BACKING_LOOP',
        message: expect.stringMatching(new RegExp(`loop\\.qcow2: new backing file "${backingFile.replace('.', '\\.')}" would make a loop`)),
      });
      expect(readFileSync(tmp.path('loop.qcow2')).equals(before)).toBe(true);
    }
  });
});
