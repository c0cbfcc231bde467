// Hostile and broken images: each gives a typed IsolaError naming the image and the problem, and none
// crashes, hangs or writes outside its file. Images are valid qemu-img output with fields patched.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { readU32, readU64Number, writeU32, writeU64 } from '../format/endian.js';
import { pattern, qemuImg, tempDir, writeRaw } from '../../test/qemu.js';
import { setBackingFile } from './backing-file.js';
import { createImage, openImage } from './open.js';

const tmp = tempDir('malformed');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });

const CS = 4096;
const SIZE = 512 * 1024;
let counter = 0;

/** A fresh copy of a valid image (4 KiB clusters, v3, with data), patched by `patch`. */
function broken(patch: (bytes: Buffer) => void, source = 'valid.qcow2'): string {
  const path = tmp.path(`case-${counter++}.qcow2`);
  copyFileSync(tmp.path(source), path);
  const bytes = readFileSync(path);
  patch(bytes);
  writeFileSync(path, bytes);
  return path;
}

/** Opens and reads everything; resolves to the IsolaError thrown (failing the test on any other outcome). */
async function failure(path: string, options: Parameters<typeof openImage>[1] = { readOnly: true }): Promise<IsolaError> {
  try {
    const image = await openImage(path, options);
    try {
      await image.read(Buffer.alloc(image.size), 0);
    } finally {
      await image.close();
    }
  } catch (error) {
    expect(error).toBeInstanceOf(IsolaError);
    const e = error as IsolaError;
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error(`${path} opened and read without error`);
}

/** Offset of the first L2 table (small test images: the high half of the L1 entry is only the copied flag). */
function l2Offset(bytes: Buffer): number {
  const l1 = readU64Number(bytes, 40)!;
  return readU32(bytes, l1 + 4) & ~0x1ff;
}

describe('malformed images', () => {
  writeRaw(tmp.path('data.raw'), pattern(SIZE, 21));
  writeRaw(tmp.path('text.raw'), Buffer.alloc(SIZE, 'compressible text '));
  qemuImg('convert', '-O', 'qcow2', '-o', `cluster_size=${CS}`, tmp.path('data.raw'), tmp.path('valid.qcow2'));
  qemuImg('convert', '-c', '-O', 'qcow2', '-o', `cluster_size=${CS}`, tmp.path('text.raw'), tmp.path('compressed.qcow2'));
  // qemu-img convert writes no feature name table; qemu-img create does, right after the 112-byte header.
  // (qemu 7.2 leaves it out with 4 KiB clusters, so this one keeps the default 64 KiB.)
  qemuImg('create', '-q', '-f', 'qcow2', tmp.path('empty.qcow2'), `${SIZE}`);

  const cases: [string, (b: Buffer) => void, string, RegExp][] = [
    ['an unknown version', (b) => writeU32(b, 4, 4), 'EQCOW2_BAD_VERSION', /version 4/],
    ['cluster_bits below 9', (b) => writeU32(b, 20, 8), 'EQCOW2_BAD_HEADER', /cluster_bits 8/],
    ['cluster_bits above 21', (b) => writeU32(b, 20, 40), 'EQCOW2_BAD_HEADER', /cluster_bits 40/],
    ['a header_length that is not a multiple of 8', (b) => writeU32(b, 100, 105), 'EQCOW2_BAD_HEADER', /header_length 105/],
    ['refcount_order 7', (b) => writeU32(b, 96, 7), 'EQCOW2_BAD_HEADER', /refcount_order 7/],
    ['an L1 table past the end of the file', (b) => writeU64(b, 40, 1 << 30), 'EQCOW2_BAD_OFFSET', /l1_table_offset 0x40000000/],
    ['a misaligned L1 table', (b) => writeU64(b, 40, readU64Number(b, 40)! + 8), 'EQCOW2_BAD_OFFSET', /not aligned/],
    ['a huge l1_size', (b) => writeU32(b, 36, 0x7fffffff), 'EQCOW2_TABLE_TOO_LARGE', /l1_size 2147483647/],
    ['an L1 too small for the disk', (b) => writeU32(b, 36, 0), 'EQCOW2_L1_TOO_SMALL', /l1_size 0/],
    ['a size beyond 2^53', (b) => writeU64(b, 24, 1n << 60n), 'EQCOW2_BAD_HEADER', /size/],
    ['no refcount table', (b) => writeU32(b, 56, 0), 'EQCOW2_TABLE_TOO_LARGE', /refcount_table_clusters 0/],
    ['an unnamed unknown incompatible feature', (b) => writeU64(b, 72, 1n << 9n), 'EQCOW2_UNKNOWN_FEATURE', /incompatible bit 9/],
    ['an external data file bit without a data file name', (b) => writeU64(b, 72, 1n << 2n), 'EQCOW2_BAD_HEADER', /external data file.*does not name one/],
    ['zstd compression', (b) => (writeU64(b, 72, 1n << 3n), (b[104] = 1)), 'EQCOW2_UNSUPPORTED_FEATURE', /zstd/],
    ['AES encryption', (b) => writeU32(b, 32, 1), 'EQCOW2_ENCRYPTED', /AES/],
    ['LUKS encryption', (b) => writeU32(b, 32, 2), 'EQCOW2_ENCRYPTED', /LUKS/],
    ['an L1 entry with reserved bits', (b) => (b[readU64Number(b, 40)! + 7] |= 1), 'EQCOW2_BAD_L1_ENTRY', /reserved/],
    ['an L1 entry past the end of the file', (b) => writeU64(b, readU64Number(b, 40)!, 1 << 30), 'EQCOW2_BAD_L1_ENTRY', /past the end/],
    ['an L2 entry past the end of the file', (b) => writeU64(b, l2Offset(b), (1n << 63n) | (1n << 30n)), 'EQCOW2_BAD_L2_ENTRY', /past the end/],
    ['a misaligned L2 entry', (b) => writeU64(b, l2Offset(b), (1n << 63n) | 0x10200n), 'EQCOW2_BAD_L2_ENTRY', /not cluster-aligned/],
  ];
  for (const [what, patch, code, message] of cases) {
    it(`refuses ${what} with ${code}`, async () => {
      const path = broken(patch);
      const error = await failure(path);
      expect(error.code).toBe(code);
      expect(error.message).toContain(path);
      expect(error.message).toMatch(message);
    });
  }

  it('refuses a header extension that overflows the first cluster', async () => {
    const error = await failure(broken((b) => writeU32(b, 112 + 4, 0xffff), 'empty.qcow2'));
    expect(error.code).toBe('EQCOW2_BAD_EXTENSION');
    expect(error.message).toMatch(/0x6803f857.*runs past/);
  });

  it('names an unknown incompatible feature from the image’s own feature name table', async () => {
    const path = broken((b) => {
      writeU64(b, 72, 1n << 9n);
      // Rename qemu's "dirty bit" entry (incompatible, bit 0) to a future feature on bit 9.
      const at = b.indexOf('dirty bit', 0, 'latin1');
      b[at - 1] = 9;
      b.write('frobnication\0\0\0', at, 'latin1');
    }, 'empty.qcow2');
    const error = await failure(path);
    expect(error.code).toBe('EQCOW2_UNKNOWN_FEATURE');
    expect(error.message).toMatch(/frobnication/);
  });

  it('refuses a bad magic when qcow2 is asked for, and reads it as raw otherwise', async () => {
    const path = broken((b) => writeU32(b, 0, 0x12345678));
    expect((await failure(path, { format: 'qcow2', readOnly: true })).code).toBe('EQCOW2_BAD_MAGIC');
    const raw = await openImage(path, { readOnly: true });
    expect(raw.format).toBe('raw');
    await raw.close();
  });

  it('reads dirty and corrupt images; opening for writing repairs a dirty one and keeps a corrupt one read-only', async () => {
    for (const bit of [0n, 1n]) {
      const path = broken((b) => writeU64(b, 72, 1n << bit));
      const image = await openImage(path, { readOnly: true });
      expect(image.info()).toMatchObject(bit === 0n ? { dirty: true } : { corrupt: true });
      await image.close();
      const writable = await openImage(path);
      expect(writable.readOnly).toBe(bit === 1n);
      expect(writable.info()).toMatchObject({ dirty: false });
      await writable.close();
    }
  });

  it('refuses compressed clusters that do not inflate', async () => {
    const path = broken((b) => {
      // First entry is compressed (bit 62); with 4 KiB clusters its offset is bits 0..57, here all in the low word.
      expect(readU32(b, l2Offset(b)) & 0x40000000).not.toBe(0);
      const host = readU32(b, l2Offset(b) + 4);
      b.fill(0xff, host, host + 64);
    }, 'compressed.qcow2');
    expect((await failure(path)).code).toBe('EQCOW2_BAD_COMPRESSED');
  });

  it('detects backing files that refer to themselves or loop through another image', async () => {
    // createImage refuses to write such images: they are made as `rebase -u` would leave them.
    for (const [name, backing] of [['self.qcow2', 'self.qcow2'], ['a.qcow2', 'b.qcow2'], ['b.qcow2', 'a.qcow2']]) {
      await (await createImage(tmp.path(name), { size: SIZE })).close();
      await setBackingFile(tmp.path(name), backing, 'qcow2');
    }
    expect(await failure(tmp.path('self.qcow2'))).toMatchObject({ code: 'EQCOW2_BACKING_LOOP' });
    const loop = await failure(tmp.path('a.qcow2'));
    expect(loop.code).toBe('EQCOW2_BACKING_LOOP');
    expect(loop.message).toMatch(/loops back/);
  });

  it('wraps a missing backing file with the image that names it', async () => {
    await expect(createImage(tmp.path('orphan.qcow2'), { size: SIZE, backingFile: 'gone.qcow2', backingFormat: 'qcow2' })).rejects.toMatchObject({ code: 'EQCOW2_BACKING_OPEN' });
    await (await createImage(tmp.path('orphan.qcow2'), { size: SIZE })).close();
    await setBackingFile(tmp.path('orphan.qcow2'), 'gone.qcow2', 'qcow2'); // the backing file went away later
    const error = await failure(tmp.path('orphan.qcow2'));
    expect(error.code).toBe('EQCOW2_BACKING_OPEN');
    expect(error.message).toMatch(/orphan\.qcow2.*gone\.qcow2/);
    await (await createImage(tmp.path('nbd.qcow2'), { size: SIZE })).close();
    await setBackingFile(tmp.path('nbd.qcow2'), 'nbd://host/export', 'raw');
    expect((await failure(tmp.path('nbd.qcow2'))).code).toBe('EQCOW2_BACKING_UNSUPPORTED');
  });

  it('survives random corruption of the metadata: typed errors or data, never a crash or a hang', async () => {
    const valid = readFileSync(tmp.path('valid.qcow2'));
    const metadataEnd = 8 * CS; // header, refcount table and block, L1 and the first L2 tables
    let next = 12345;
    const random = (n: number): number => {
      next = (next * 1103515245 + 12345) % 2 ** 31;
      return next % n;
    };
    const path = tmp.path('fuzz.qcow2');
    for (let round = 0; round < 150; round++) {
      const bytes = Buffer.from(valid);
      for (let k = 0; k < 1 + random(4); k++) bytes[random(metadataEnd)] = random(256);
      writeFileSync(path, bytes);
      try {
        const image = await openImage(path, { readOnly: round % 2 === 0 });
        try {
          await image.read(Buffer.alloc(image.size), 0);
          if (!image.readOnly) await image.write(Buffer.alloc(9000, 7), random(image.size - 9000));
        } finally {
          await image.close();
        }
      } catch (error) {
        expect(error).toBeInstanceOf(IsolaError);
      }
    }
  });
});
