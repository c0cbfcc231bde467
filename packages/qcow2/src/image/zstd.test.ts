// zstd-compressed images (compression_type=zstd, qemu 5.1+). Node 20's zlib has no zstd: there the
// image must be refused naming the feature and the Node version, with nothing written. The framing the
// reader relies on (one zstd frame per cluster, padded to a sector) is checked on every compressed
// cluster qemu wrote, with the zstd command as the decoder; on a Node with zstd the whole disk must
// read back as its source.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { zstdDecompressor } from '../format/features.js';
import { geometryOf } from '../format/geometry.js';
import { parseHeader } from '../format/header.js';
import { readL1Entry } from '../format/l1-entry.js';
import { readL2Entry } from '../format/l2-entry.js';
import { zstdFrameLength } from '../format/zstd-frame.js';
import { qemuImg, tempDir, writeRaw } from '../../test/qemu.js';
import { openImage } from './open.js';

const tmp = tempDir('zstd');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img', 'zstd'] });

const CS = 65536;
const source = Buffer.alloc(2 * 1024 * 1024);
for (let i = 0; i < source.length; i++) source[i] = (i * 7) % 251 < 200 ? 0x61 + ((i >> 9) % 26) : (i * 2654435761) >>> 24;
source.fill(0, 300_000, 500_000);

describe('zstd compression', () => {
  writeRaw(tmp.path('source.raw'), source);
  const path = tmp.path('zstd.qcow2');
  qemuImg('convert', '-c', '-O', 'qcow2', '-o', `compression_type=zstd,cluster_size=${CS}`, tmp.path('source.raw'), path);

  it('frames every compressed cluster as one zstd frame that the zstd command decodes to the source', () => {
    const bytes = readFileSync(path);
    const h = parseHeader(bytes, path);
    expect(h.compressionType).toBe(1);
    const g = geometryOf(h);
    let clusters = 0;
    for (let i = 0; i < h.l1Size; i++) {
      const { l2Offset } = readL1Entry(bytes.subarray(h.l1TableOffset), i, g.clusterSize, path);
      if (l2Offset === 0) continue;
      const table = bytes.subarray(l2Offset, l2Offset + g.clusterSize);
      for (let j = 0; j < g.l2Entries; j++) {
        const entry = readL2Entry(table, j, g, path);
        if (entry.kind !== 'compressed') continue;
        const stored = bytes.subarray(entry.hostOffset, entry.hostOffset + entry.compressedSize);
        const length = zstdFrameLength(stored);
        expect(length, `cluster ${j}`).toBeGreaterThan(0);
        expect(length!).toBeLessThanOrEqual(stored.length);
        expect(zstdFrameLength(stored.subarray(0, length! - 1)), 'a truncated frame').toBeUndefined();
        writeFileSync(tmp.path('frame.zst'), stored.subarray(0, length));
        const decoded = execFileSync('zstd', ['-d', '-c', '-q', tmp.path('frame.zst')]);
        const guest = (i * g.l2Entries + j) * g.clusterSize;
        expect(decoded.equals(source.subarray(guest, guest + g.clusterSize)), `cluster ${j}`).toBe(true);
        clusters++;
      }
    }
    expect(clusters).toBeGreaterThan(20);
  });

  if (zstdDecompressor() === undefined) {
    it('refuses the image on a Node without zstd, naming the feature and the version, and writes nothing', async () => {
      const before = readFileSync(path);
      for (const readOnly of [true, false]) {
        await expect(openImage(path, { readOnly })).rejects.toMatchObject({
          code: 'EQCOW2_UNSUPPORTED_FEATURE',
          message: expect.stringMatching(new RegExp(`zstd compression.*${process.version.replace(/\./g, '\\.')}`)),
        });
      }
      expect(readFileSync(path).equals(before)).toBe(true);
    });
  } else {
    it('reads the image back as its source', async () => {
      const image = await openImage(path, { readOnly: true });
      const buf = Buffer.alloc(image.size);
      await image.read(buf, 0);
      await image.close();
      expect(buf.equals(source)).toBe(true);
      expect(image.info()).toMatchObject({ compressionType: 'zstd' });
    });
  }

  it('refuses an unknown compression type', async () => {
    const bytes = readFileSync(path);
    bytes[104] = 7;
    writeFileSync(tmp.path('type7.qcow2'), bytes);
    await expect(openImage(tmp.path('type7.qcow2'), { readOnly: true })).rejects.toMatchObject({
      code: 'EQCOW2_UNSUPPORTED_FEATURE',
      message: expect.stringMatching(/compression type 7/),
    });
  });
});
