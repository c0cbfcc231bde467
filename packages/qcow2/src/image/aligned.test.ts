// The kernel is the judge of alignment: an O_DIRECT read that crosses pages fails with EINVAL unless the
// buffer starts on a page boundary (as allocDirect's probe relies on too).
import { closeSync, constants, openSync, readSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/qemu.js';
import { allocPageAligned } from './aligned.js';

const tmp = tempDir('aligned');
afterAll(() => tmp.remove());

describe('allocPageAligned', () => {
  it('gives zeroed memory that starts on a page boundary, where a malloc-backed Buffer does not', () => {
    writeFileSync(tmp.path('f'), Buffer.alloc(65536, 7));
    const fd = openSync(tmp.path('f'), constants.O_RDONLY | constants.O_DIRECT);
    try {
      const aligned = allocPageAligned(3 * 4096 + 100);
      expect(aligned.length).toBe(3 * 4096 + 100);
      expect(aligned.every((b) => b === 0)).toBe(true);
      expect(readSync(fd, aligned, 4096, 8192, 0)).toBe(8192);
      expect(aligned[4096]).toBe(7);
      // The control: a view 16 bytes into the same memory is refused, so the read above proves alignment.
      expect(() => readSync(fd, aligned, 16, 8192, 0)).toThrow(/EINVAL/);
    } finally {
      closeSync(fd);
    }
  });
});
