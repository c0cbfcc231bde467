// Raw images: holes of a sparse file are reported as zero runs (SEEK_DATA/SEEK_HOLE), exactly as
// qemu-img map reports them; a file that cannot be opened is one clean line naming the call and errno.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it as plainIt } from 'vitest';
import { describeError } from '@isola/errors';
import { itNeeds } from '../../../../test/support/requirements.js';
import { qemuImg, sparseFile, tempDir } from '../../test/qemu.js';
import { mapImage, mapJson } from '../tools/map.js';
import { openImage } from './open.js';
import { RawImage } from './raw-image.js';

const tmp = tempDir('raw');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });
const KiB = 1024;
const MiB = 1024 * KiB;

describe('raw image', () => {
  const path = tmp.path('sparse.raw');
  sparseFile(path, 20 * MiB + 12800, [
    [0, 4 * KiB],
    [1 * MiB, 256 * KiB],
    [5 * MiB - 4 * KiB, 12 * KiB],
    [20 * MiB, 12345],
  ]);

  it('maps holes as zero and the rest as data, as qemu-img map does', async () => {
    const image = await openImage(path, { readOnly: true });
    try {
      expect(mapJson(await mapImage(image))).toBe(qemuImg('map', '--output=json', '-f', 'raw', path));
    } finally {
      await image.close();
    }
  });

  plainIt('reports the extents of a sub-range, cut at its edges', async () => {
    const image = await RawImage.open(path, true);
    try {
      expect(await image.status(2 * KiB, 1 * MiB)).toEqual([
        { start: 2 * KiB, length: 2 * KiB, kind: 'data', offset: 2 * KiB },
        { start: 4 * KiB, length: 1 * MiB - 4 * KiB, kind: 'zero', offset: 4 * KiB },
        { start: 1 * MiB, length: 2 * KiB, kind: 'data', offset: 1 * MiB },
      ]);
      expect(await image.status(3 * MiB, 4 * KiB)).toEqual([{ start: 3 * MiB, length: 4 * KiB, kind: 'zero', offset: 3 * MiB }]);
      expect(await image.status(0, 0)).toEqual([]);
    } finally {
      await image.close();
    }
  });

  it('discards by punching a hole (qemu-img map: zero) and zeroes ranges in place, keeping the file\'s length', async () => {
    const file = tmp.path('punch.raw');
    writeFileSync(file, Buffer.alloc(4 * MiB, 0x5a));
    const image = await RawImage.open(file, false);
    try {
      const before = statSync(file).blocks * 512;
      await image.discard(1 * MiB, 1 * MiB);
      await image.writeZeroes(2 * MiB + 4 * KiB, 8 * KiB);
      await image.writeZeroes(3 * MiB + 100, 1000); // inside one block: zeroed in place
      expect(before - statSync(file).blocks * 512).toBeGreaterThanOrEqual(1 * MiB);
      const back = Buffer.alloc(4 * MiB);
      await image.read(back, 0);
      const expected = Buffer.alloc(4 * MiB, 0x5a).fill(0, 1 * MiB, 2 * MiB).fill(0, 2 * MiB + 4 * KiB, 2 * MiB + 12 * KiB).fill(0, 3 * MiB + 100, 3 * MiB + 1100);
      expect(back.equals(expected)).toBe(true);
      expect(statSync(file).size).toBe(4 * MiB);
    } finally {
      await image.close();
    }
    const map = JSON.parse(qemuImg('map', '--output=json', '-f', 'raw', file)) as { start: number; length: number; data: boolean }[];
    // Zeroed ranges stay allocated (fallocate ZERO_RANGE), as qemu's write-zeroes without unmap leaves them.
    expect(map.filter((m) => !m.data).map((m) => [m.start, m.length])).toEqual([[1 * MiB, 1 * MiB]]);
  });

  plainIt('names the call, the path and the errno once when the file is missing, and creates nothing', async () => {
    const missing = tmp.path('missing.raw');
    const error = await openImage(missing).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EIMG_IO', details: { errno: 'ENOENT', path: missing } });
    expect(describeError(error)).toBe(`open(${JSON.stringify(missing)}, O_RDWR): ENOENT (No such file or directory)`);
    expect(existsSync(missing)).toBe(false);
    const hostile = tmp.path('a"b\nc');
    expect(describeError(await openImage(hostile, { readOnly: true }).catch((e: unknown) => e))).toBe(
      `open("${tmp.dir}/a\\"b\\nc", O_RDONLY): ENOENT (No such file or directory)`,
    );
  });
});
