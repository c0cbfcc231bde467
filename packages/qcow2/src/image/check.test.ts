// check(): the same counts as `qemu-img check --output json` on clean, leaking, corrupted, compressed,
// fragmented and snapshotted images; repairs that qemu-img then finds clean; and the dirty bit (lazy
// refcounts) and corrupt bit handled on open.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { readU32, readU64Number, writeU16, writeU64 } from '../format/endian.js';
import { pattern, qemuImg, qemuImgStatus, tempDir, writeRaw } from '../../test/qemu.js';
import { check, checkExitStatus, checkJson } from './check.js';
import { createImage, openImage } from './open.js';

const tmp = tempDir('check');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

/** Our JSON must equal qemu's for the same file. */
async function expectSameAsQemu(path: string): Promise<void> {
  const qemu = qemuImgStatus('check', '--output=json', path);
  const ours = await check(path);
  expect(checkJson(ours)).toEqual(JSON.parse(qemu.output.slice(qemu.output.indexOf('{'), qemu.output.lastIndexOf('}') + 1)));
  expect(checkExitStatus(ours)).toBe(qemu.status);
}

/** Sets the 16-bit refcount of `cluster` in the first refcount block. */
function setRefcount(path: string, cluster: number, value: number): void {
  const bytes = readFileSync(path);
  const table = readU64Number(bytes, 48)!;
  const block = readU64Number(bytes, table)!;
  writeU16(bytes, block + cluster * 2, value);
  writeFileSync(path, bytes);
}

describe('check', () => {
  const data = pattern(2 * 1024 * 1024, 51);
  writeRaw(tmp.path('data.raw'), data);

  it('reports what qemu-img check reports on clean images of every kind', async () => {
    qemuImg('convert', '-O', 'qcow2', '-o', 'cluster_size=4096', tmp.path('data.raw'), tmp.path('plain.qcow2'));
    qemuImg('convert', '-c', '-O', 'qcow2', '-o', 'cluster_size=4096', tmp.path('data.raw'), tmp.path('comp.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', tmp.path('empty.qcow2'), '1G');
    // Fragmented, with two internal snapshots sharing clusters.
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', tmp.path('snap.qcow2'), '2M');
    const image = await createImage(tmp.path('frag.qcow2'), { size: data.length, clusterSize: 4096 });
    for (let at = data.length - 65536; at >= 0; at -= 65536) await image.write(data.subarray(at, at + 65536), at);
    await image.close();
    for (const name of ['plain', 'comp', 'empty', 'frag']) await expectSameAsQemu(tmp.path(`${name}.qcow2`));
    qemuImg('convert', '-O', 'qcow2', '-o', 'cluster_size=4096', tmp.path('data.raw'), tmp.path('snap.qcow2'));
    qemuImg('snapshot', '-c', 'one', tmp.path('snap.qcow2'));
    qemuImg('snapshot', '-c', 'two', tmp.path('snap.qcow2'));
    await expectSameAsQemu(tmp.path('snap.qcow2'));
  });

  it('finds leaks and repairs them in place', async () => {
    const path = tmp.path('leak.qcow2');
    copyFileSync(tmp.path('plain.qcow2'), path);
    setRefcount(path, 1, 2);
    const fileClusters = Math.ceil(readFileSync(path).length / 4096);
    setRefcount(path, fileClusters + 3, 1); // past the end of the file: ignored, as qemu does
    await expectSameAsQemu(path);
    const result = await check(path);
    expect(result).toMatchObject({ leaks: 1, corruptions: 0 });
    expect(result.messages).toContain('Leaked cluster 1 refcount=2 reference=1');
    const repaired = await check(path, { repair: 'leaks' });
    expect(repaired).toMatchObject({ leaks: 0, leaksFixed: 1, corruptions: 0 });
    expect(qemuImgStatus('check', path).status).toBe(0);
  });

  it('finds corruptions (refcount too low, copied flag wrong) and rebuilds the refcounts with repair all', async () => {
    const path = tmp.path('corrupt.qcow2');
    copyFileSync(tmp.path('plain.qcow2'), path);
    setRefcount(path, 6, 0);
    setRefcount(path, 1, 3);
    await expectSameAsQemu(path);
    expect((await check(path)).corruptions).toBeGreaterThan(0);
    const repaired = await check(path, { repair: 'all' });
    expect(repaired).toMatchObject({ corruptions: 0, leaks: 0 });
    expect(repaired.corruptionsFixed).toBeGreaterThan(0);
    expect(qemuImgStatus('check', path).status).toBe(0);
    expect(qemuImgStatus('compare', '-f', 'qcow2', '-F', 'raw', path, tmp.path('data.raw')).status).toBe(0);
  });

  it('repairs an image left dirty with lazy refcounts before writing to it', async () => {
    const path = tmp.path('lazy.qcow2');
    const image = await createImage(path, { size: data.length, clusterSize: 4096, lazyRefcounts: true });
    await image.write(data.subarray(0, 1024 * 1024), 0);
    // A crash: copy the file while refcounts are still in memory only.
    const crashed = tmp.path('lazy-crashed.qcow2');
    copyFileSync(path, crashed);
    await image.close();
    expect(qemuImgStatus('check', path).status).toBe(0);
    expect(JSON.parse(qemuImg('info', '--output=json', crashed))['dirty-flag']).toBe(true);
    expect(qemuImgStatus('check', crashed).status).toBe(2);
    const reopened = await openImage(crashed);
    expect(reopened.info()).toMatchObject({ dirty: false, lazyRefcounts: true });
    await reopened.write(data.subarray(1024 * 1024), 1024 * 1024);
    await reopened.close();
    expect(qemuImgStatus('check', crashed).status).toBe(0);
    expect(qemuImgStatus('compare', '-f', 'qcow2', '-F', 'raw', crashed, tmp.path('data.raw')).status).toBe(0);
  });

  it('opens an image with the corrupt bit read-only, and repair all clears the bit', async () => {
    const path = tmp.path('corrupt-bit.qcow2');
    copyFileSync(tmp.path('plain.qcow2'), path);
    const bytes = readFileSync(path);
    expect(readU32(bytes, 4)).toBe(3);
    writeU64(bytes, 72, 2n);
    writeFileSync(path, bytes);
    const image = await openImage(path);
    expect(image.readOnly).toBe(true);
    await expect(image.write(Buffer.alloc(1), 0)).rejects.toMatchObject({ code: 'EIMG_READ_ONLY', message: expect.stringMatching(/corrupt/) });
    await image.close();
    await check(path, { repair: 'all' });
    const fixed = await openImage(path);
    expect(fixed.readOnly).toBe(false);
    await fixed.close();
  });
});
