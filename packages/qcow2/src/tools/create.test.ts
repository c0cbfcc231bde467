// create: the qcow2-only options are refused for raw images, as qemu-img refuses them, and so are a
// missing backing file and one whose chain leads back to the target; no file is made or changed.
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/qemu.js';
import { create } from './create.js';

const tmp = tempDir('create');
afterAll(() => tmp.remove());

describe('create', () => {
  it('refuses qcow2 options for a raw image, naming them by their -o names, and leaves no file', async () => {
    const path = tmp.path('opts.raw');
    await expect(create(path, { format: 'raw', size: 1 << 20, clusterSize: 65536, backingFile: 'base.qcow2' })).rejects.toMatchObject({
      code: 'EIMG_BAD_OPTION',
      message: expect.stringMatching(/opts\.raw: raw images take no cluster_size, backing_file \(qcow2 options\)$/),
    });
    expect(existsSync(path)).toBe(false);
    expect(await create(path, { format: 'raw', size: 1 << 20 })).toBe(1 << 20);
  });

  it('refuses a missing backing file and one that would make a loop before it writes the target', async () => {
    const path = tmp.path('self.qcow2');
    await create(path, { format: 'qcow2', size: 1 << 20 });
    const before = readFileSync(path);
    symlinkSync(path, tmp.path('self-link.qcow2'));
    for (const backingFile of ['self.qcow2', 'self-link.qcow2']) {
      await expect(create(path, { format: 'qcow2', size: 1 << 20, backingFile, backingFormat: 'qcow2' })).rejects.toMatchObject({
        code: 'EQCOW2_BACKING_LOOP',
        message: expect.stringMatching(/self\.qcow2: backing file ".*" would make a loop: its chain reaches .*self(-link)?\.qcow2, this image$/),
      });
      expect(readFileSync(path).equals(before)).toBe(true);
    }
    const fresh = tmp.path('fresh.qcow2');
    await expect(create(fresh, { format: 'qcow2', size: 1 << 20, backingFile: 'nothere.qcow2', backingFormat: 'qcow2' })).rejects.toMatchObject({ code: 'EQCOW2_BACKING_OPEN' });
    expect(existsSync(fresh)).toBe(false);
  });
});
