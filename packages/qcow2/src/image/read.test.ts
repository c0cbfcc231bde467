// Reading images qemu-img wrote: every cluster size, both versions, compressed, extended L2, backing
// chains of qcow2 and raw. qemu-img convert from a raw file of known content is the oracle.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, tempDir, writeRaw } from '../../test/qemu.js';
import type { Image } from './image.js';
import { openImage } from './open.js';

const tmp = tempDir('read');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

const SIZE = 3 * 1024 * 1024 + 7680; // not a multiple of any cluster size above 512

async function readAll(image: Image): Promise<Buffer> {
  const buf = Buffer.alloc(image.size);
  await image.read(buf, 0);
  return buf;
}

/** Reads in pieces of awkward sizes and offsets, which cross cluster and L2-table boundaries. */
async function readPieces(image: Image): Promise<Buffer> {
  const out = Buffer.alloc(image.size);
  let at = 0;
  let step = 1;
  while (at < image.size) {
    const n = Math.min(image.size - at, (step * 7919) % 200_000 + 1);
    await image.read(out.subarray(at, at + n), at);
    at += n;
    step++;
  }
  return out;
}

describe('reading qemu-img images', () => {
  const raw = tmp.path('source.raw');
  const data = pattern(SIZE, 7);
  writeRaw(raw, data);

  for (const clusterSize of [512, 4096, 65536, 2 * 1024 * 1024]) {
    for (const compat of ['0.10', '1.1']) {
      for (const compressed of [false, true]) {
        if (compressed && clusterSize === 512 && compat === '0.10') continue; // keep the file fast: covered by 1.1
        const name = `cs${clusterSize}-v${compat}${compressed ? '-c' : ''}`;
        it(`reads ${name} byte-identical to its source`, async () => {
          const path = tmp.path(`${name}.qcow2`);
          qemuImg('convert', '-O', 'qcow2', ...(compressed ? ['-c'] : []), '-o', `cluster_size=${clusterSize},compat=${compat}`, raw, path);
          const image = await openImage(path, { readOnly: true });
          try {
            expect(image.format).toBe('qcow2');
            expect(image.size).toBe(SIZE);
            expect((await readAll(image)).equals(data)).toBe(true);
            if (clusterSize <= 65536) expect((await readPieces(image)).equals(data)).toBe(true);
            const info = image.info();
            expect(info).toMatchObject({ format: 'qcow2', version: compat === '0.10' ? 2 : 3, clusterSize, virtualSize: SIZE });
          } finally {
            await image.close();
          }
        });
      }
    }
  }

  it('reads a raw file through the same interface, detected by the missing magic', async () => {
    const image = await openImage(raw, { readOnly: true });
    expect(image.format).toBe('raw');
    expect((await readAll(image)).equals(data)).toBe(true);
    await image.close();
  });
});

describe('backing chains', () => {
  // base differs from other in a few places; top is an overlay of base rebased onto other, so top
  // allocates exactly the differences and reads as base through a chain ending in a raw file.
  const base = pattern(1024 * 1024, 3);
  const other = Buffer.from(base);
  other.fill(0, 300_000, 305_000);
  other.fill(0x5a, 700_001, 700_101);
  other.fill(0x11, 1_000_000, 1_048_576);
  writeRaw(tmp.path('base.raw'), base);
  writeRaw(tmp.path('other.raw'), other);

  it('reads through qcow2 -> qcow2 -> qcow2 -> raw, resolving names against each image directory', async () => {
    qemuImg('convert', '-O', 'qcow2', tmp.path('base.raw'), tmp.path('base.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'other.raw', '-F', 'raw', tmp.path('other.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b', 'base.qcow2', '-F', 'qcow2', tmp.path('top.qcow2'));
    qemuImg('rebase', '-f', 'qcow2', '-b', 'other.qcow2', '-F', 'qcow2', tmp.path('top.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'top.qcow2', '-F', 'qcow2', tmp.path('top2.qcow2'));
    const image = await openImage(tmp.path('top2.qcow2'), { readOnly: true });
    try {
      expect((await readAll(image)).equals(base)).toBe(true);
      expect((await readPieces(image)).equals(base)).toBe(true);
      const info = image.info();
      expect(info.format === 'qcow2' && info.backingFile).toBe('top.qcow2');
      expect(image.backing?.backing?.backing?.format).toBe('raw');
    } finally {
      await image.close();
    }
  });

  it('reads zeros past the end of a shorter backing file', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', tmp.path('bigger.qcow2'), '3M');
    const image = await openImage(tmp.path('bigger.qcow2'), { readOnly: true });
    const all = await readAll(image);
    await image.close();
    expect(all.subarray(0, base.length).equals(base)).toBe(true);
    expect(all.subarray(base.length).every((b) => b === 0)).toBe(true);
  });

  it('reads extended L2 images with partly allocated, partly backing subclusters', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on,cluster_size=65536', '-b', 'base.qcow2', '-F', 'qcow2', tmp.path('ext.qcow2'));
    qemuImg('rebase', '-f', 'qcow2', '-b', 'other.qcow2', '-F', 'qcow2', tmp.path('ext.qcow2'));
    const image = await openImage(tmp.path('ext.qcow2'), { readOnly: true });
    expect(image.info()).toMatchObject({ extendedL2: true });
    expect((await readPieces(image)).equals(base)).toBe(true);
    await image.close();
  });

  it('reads extended L2 images converted whole, with zero subclusters', async () => {
    qemuImg('convert', '-O', 'qcow2', '-o', 'extended_l2=on,cluster_size=32768', tmp.path('other.raw'), tmp.path('ext-full.qcow2'));
    const image = await openImage(tmp.path('ext-full.qcow2'), { readOnly: true });
    expect((await readAll(image)).equals(readFileSync(tmp.path('other.raw')))).toBe(true);
    await image.close();
  });
});
