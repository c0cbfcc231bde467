// convert: images isola writes pass qemu-img check and compare equal to their source; compressed
// clusters are ones qemu decompresses; zero clusters are left unallocated.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, vi } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { pattern, qemuImg, qemuImgStatus, sparseFile, tempDir, writeRaw } from '../../test/qemu.js';
import { RawImage } from '../image/raw-image.js';
import { convert } from './convert.js';

const tmp = tempDir('convert');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });
const asRoot = itNeeds({ root: true, tools: ['qemu-img', 'mount', 'umount'] });

function expectGood(path: string, source: string, format = 'raw'): void {
  const check = qemuImgStatus('check', path);
  expect(check.output).not.toMatch(/ERROR|Leaked/);
  expect(check.status).toBe(0);
  const compare = qemuImgStatus('compare', '-F', format, path, source);
  expect(compare.output).toContain('Images are identical');
}

describe('convert', () => {
  const data = pattern(3 * 1024 * 1024, 61);
  data.fill(0, 1024 * 1024, 2 * 1024 * 1024); // a zero megabyte to skip
  writeRaw(tmp.path('src.raw'), data);
  const text = Buffer.alloc(1024 * 1024, 'compressible text, repeated; ');
  text.set(pattern(4096, 3), 500_000);
  writeRaw(tmp.path('text.raw'), text);

  for (const [name, options] of [
    ['64k', {}],
    ['4k-v2', { clusterSize: 4096, version: 2 as const }],
    ['512-r1', { clusterSize: 512, refcountBits: 1 }],
    ['2m', { clusterSize: 2 * 1024 * 1024 }],
  ] as const) {
    it(`writes raw to qcow2 (${name}) that qemu-img checks and compares equal, zero clusters unallocated`, async () => {
      const out = tmp.path(`out-${name}.qcow2`);
      await convert(tmp.path('src.raw'), out, { outputFormat: 'qcow2', ...options });
      expectGood(out, tmp.path('src.raw'));
      if (name === '64k') {
        const map = JSON.parse(qemuImg('map', '--output=json', out)) as { start: number; length: number; data: boolean }[];
        const hole = map.find((m) => m.start <= 1024 * 1024 && m.start + m.length >= 2 * 1024 * 1024);
        expect(hole).toMatchObject({ data: false });
      }
    });
  }

  it('compresses clusters as raw deflate that qemu-img reads, keeping incompressible ones plain', async () => {
    for (const cs of [4096, 65536]) {
      const out = tmp.path(`comp-${cs}.qcow2`);
      await convert(tmp.path('text.raw'), out, { outputFormat: 'qcow2', compress: true, clusterSize: cs });
      expectGood(out, tmp.path('text.raw'));
      const check = JSON.parse(qemuImgStatus('check', '--output=json', out).output) as Record<string, number>;
      expect(check['compressed-clusters']).toBeGreaterThan(0);
      qemuImg('convert', '-O', 'raw', out, tmp.path(`comp-${cs}.raw`));
      expect(qemuImgStatus('compare', '-f', 'raw', '-F', 'raw', tmp.path(`comp-${cs}.raw`), tmp.path('text.raw')).status).toBe(0);
    }
    const random = tmp.path('comp-random.qcow2');
    await convert(tmp.path('src.raw'), random, { outputFormat: 'qcow2', compress: true, clusterSize: 4096 });
    expectGood(random, tmp.path('src.raw'));
  });

  it('writes with O_DIRECT (-t none) an image equal to the page-cache one, for each cluster size', async () => {
    for (const clusterSize of [512, 65536, 2 * 1024 * 1024]) {
      const out = tmp.path(`direct-${clusterSize}.qcow2`);
      await convert(tmp.path('src.raw'), out, { outputFormat: 'qcow2', clusterSize, direct: true, sync: true });
      expectGood(out, tmp.path('src.raw'));
      const buffered = tmp.path(`buffered-${clusterSize}.qcow2`);
      await convert(tmp.path('src.raw'), buffered, { outputFormat: 'qcow2', clusterSize });
      expect(allocation(out)).toEqual(allocation(buffered));
    }
    const compressed = tmp.path('direct-compressed.qcow2');
    await convert(tmp.path('text.raw'), compressed, { outputFormat: 'qcow2', compress: true, direct: true, sync: true });
    expectGood(compressed, tmp.path('text.raw'));
  });

  it('removes the target when the source fails to read half way, and names the source and the reason', async () => {
    const broken = tmp.path('broken.qcow2');
    qemuImg('convert', '-f', 'raw', '-O', 'qcow2', tmp.path('src.raw'), broken);
    // Cut the file after its first two data clusters (qemu places them from 0x50000, after its tables):
    // the later L2 entries now point past the end of the file.
    const fd = openSync(broken, 'r+');
    ftruncateSync(fd, 0x70000);
    closeSync(fd);
    for (const direct of [false, true]) {
      const out = tmp.path(`from-broken-${direct}.qcow2`);
      await expect(convert(broken, out, { outputFormat: 'qcow2', direct })).rejects.toMatchObject({
        code: 'EQCOW2_BAD_L2_ENTRY',
        message: expect.stringMatching(/broken\.qcow2: guest cluster \d+ maps to 0x[0-9a-f]+, past the end of the file/),
      });
      expect(existsSync(out)).toBe(false);
    }
  });

  it('refuses to convert an image onto itself (by name or through a symlink), leaving it intact', async () => {
    const self = tmp.path('self.raw');
    writeRaw(self, data);
    symlinkSync(self, tmp.path('self-link.raw'));
    for (const target of [self, tmp.path('self-link.raw')]) {
      await expect(convert(self, target, { outputFormat: 'qcow2' })).rejects.toMatchObject({ code: 'EIMG_BAD_OPTION' });
      expect(readFileSync(self).equals(data)).toBe(true);
    }
  });

  it('refuses to convert an overlay onto a file of its backing chain (directly or through a symlink), leaving it intact', async () => {
    writeRaw(tmp.path('chain-base.raw'), data);
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'chain-base.raw', '-F', 'raw', tmp.path('chain-mid.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'chain-mid.qcow2', '-F', 'qcow2', tmp.path('chain-top.qcow2'));
    symlinkSync(tmp.path('chain-base.raw'), tmp.path('chain-base-link.raw'));
    const mid = readFileSync(tmp.path('chain-mid.qcow2'));
    for (const target of ['chain-mid.qcow2', 'chain-base.raw', 'chain-base-link.raw']) {
      await expect(convert(tmp.path('chain-top.qcow2'), tmp.path(target), { outputFormat: 'qcow2' })).rejects.toMatchObject({
        code: 'EIMG_BAD_OPTION',
        message: expect.stringMatching(/is the backing file ".*chain-(mid|base)\.(qcow2|raw)" of .*chain-top\.qcow2: convert would destroy it$/),
      });
    }
    expect(readFileSync(tmp.path('chain-base.raw')).equals(data)).toBe(true);
    expect(readFileSync(tmp.path('chain-mid.qcow2')).equals(mid)).toBe(true);
  });

  it('reports its progress from 0 to 1, never going back, for either output', async () => {
    for (const outputFormat of ['raw', 'qcow2'] as const) {
      const seen: number[] = [];
      await convert(tmp.path('src.raw'), tmp.path(`progress.${outputFormat}`), { outputFormat, onProgress: (done) => seen.push(done) });
      expect(seen[0]).toBe(0);
      expect(seen.at(-1)).toBe(1);
      expect(seen.length).toBeGreaterThan(2);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    }
  });

  it('allocates what it writes: the data runs of the target take their blocks, its holes stay holes', async () => {
    const MiB = 1024 * 1024;
    const data = randomBytes(4 * MiB).fill(0, MiB, 2 * MiB); // 3 MiB of data around a zero MiB
    writeRaw(tmp.path('three.raw'), data);
    for (const outputFormat of ['raw', 'qcow2'] as const) {
      const out = tmp.path(`allocated.${outputFormat}`);
      await convert(tmp.path('three.raw'), out, { outputFormat });
      const allocated = statSync(out).blocks * 512;
      // qcow2 adds its header, one L2 table, the L1 table and the refcount structure: a few clusters.
      expect(allocated).toBeGreaterThanOrEqual(3 * MiB);
      expect(allocated).toBeLessThanOrEqual(3 * MiB + (outputFormat === 'qcow2' ? 6 * 65536 : 0));
      if (outputFormat === 'qcow2') expectGood(out, tmp.path('three.raw'));
      else expect(readFileSync(out).equals(data)).toBe(true);
    }
  });

  asRoot('fails on a full file system in fallocate, before writing, naming the target and ENOSPC, and removes it; a target that fits is written', async () => {
    const mnt = tmp.path('small-fs');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'isola-test-small', mnt]);
    try {
      // three.raw (written by the test above) holds 3 MiB of data: more than the file system's 1 MiB.
      for (const outputFormat of ['raw', 'qcow2'] as const) {
        const out = join(mnt, `full.${outputFormat}`);
        await expect(convert(tmp.path('three.raw'), out, { outputFormat })).rejects.toThrow(/^fallocate\(".*full\.(raw|qcow2)"\): ENOSPC \(No space left on device\)$/);
        expect(readdirSync(mnt)).toEqual([]);
      }
      // 256 KiB of data fits, though the 32 MiB a qcow2 target allocates ahead does not: each write's
      // own range is allocated instead, and the image ends where its data and tables do.
      const small = tmp.path('small.raw');
      writeRaw(small, randomBytes(256 * 1024));
      const out = join(mnt, 'fits.qcow2');
      await convert(small, out, { outputFormat: 'qcow2' });
      expectGood(out, small);
      expect(statSync(out).size).toBeLessThan(1024 * 1024);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('stops when its signal aborts half way (Ctrl-C), failing with the reason and removing the target', async () => {
    const stop = new AbortController();
    const reason = new Error('interrupted');
    const original = RawImage.prototype.read;
    // Aborted during the first read: the target exists by then, and later chunks are already being read.
    const spy = vi.spyOn(RawImage.prototype, 'read').mockImplementation(function (this: RawImage, buf: Uint8Array, offset: number) {
      stop.abort(reason);
      return original.call(this, buf, offset);
    });
    try {
      for (const outputFormat of ['raw', 'qcow2'] as const) {
        const out = tmp.path(`stopped.${outputFormat}`);
        await expect(convert(tmp.path('src.raw'), out, { outputFormat, signal: stop.signal })).rejects.toBe(reason);
        expect(existsSync(out)).toBe(false);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('converts a compressed qcow2 chain to raw and back', async () => {
    qemuImg('convert', '-c', '-O', 'qcow2', tmp.path('text.raw'), tmp.path('base.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', tmp.path('top.qcow2'));
    await convert(tmp.path('top.qcow2'), tmp.path('flat.raw'), { outputFormat: 'raw' });
    expect(qemuImgStatus('compare', '-f', 'raw', '-F', 'raw', tmp.path('flat.raw'), tmp.path('text.raw')).status).toBe(0);
    await convert(tmp.path('top.qcow2'), tmp.path('flat.qcow2'), { outputFormat: 'qcow2', sync: true });
    expectGood(tmp.path('flat.qcow2'), tmp.path('text.raw'));
  });

  it('skips the holes of a sparse raw file: no reads, and unallocated exactly where qemu-img leaves them', async () => {
    const KiB = 1024;
    const MiB = 1024 * KiB;
    const src = tmp.path('sparse.raw');
    // Data sharing a 64 KiB cluster across a hole, an extent crossing a cluster edge, allocated zeros
    // (read, then skipped as zero clusters), and a small tail: 4 GiB of virtual disk in all.
    sparseFile(src, 4096 * MiB, [
      [0, 4 * KiB],
      [12 * KiB, 4 * KiB],
      [10 * MiB + 60 * KiB, 8 * KiB],
      [2048 * MiB, 1 * MiB],
      [4096 * MiB - 4 * KiB, 4 * KiB],
    ]);
    const fd = openSync(src, 'r+');
    writeSync(fd, Buffer.alloc(256 * KiB), 0, 256 * KiB, 3000 * MiB); // allocated, but zeros
    closeSync(fd);
    const read = vi.spyOn(RawImage.prototype, 'read');
    try {
      for (const [name, options] of [['64k', {}], ['4k', { clusterSize: 4096 }], ['2m', { clusterSize: 2 * MiB }]] as const) {
        read.mockClear();
        const ours = tmp.path(`sparse-${name}.qcow2`);
        const theirs = tmp.path(`sparse-${name}-qemu.qcow2`);
        await convert(src, ours, { outputFormat: 'qcow2', ...options });
        qemuImg('convert', '-f', 'raw', '-O', 'qcow2', '-o', `cluster_size=${options.clusterSize ?? 65536}`, src, theirs);
        expectGood(ours, src);
        expect(allocation(ours)).toEqual(allocation(theirs));
        const bytesRead = read.mock.calls.reduce((n, [buf]) => n + buf.length, 0);
        // The clusters the six extents touch, not the 4 GiB of holes.
        expect(bytesRead).toBeLessThanOrEqual(6 * Math.max(256 * KiB, options.clusterSize ?? 65536) + 1 * MiB);
      }
      read.mockClear();
      await convert(src, tmp.path('sparse-out.raw'), { outputFormat: 'raw' });
      qemuImg('convert', '-f', 'raw', '-O', 'raw', src, tmp.path('sparse-out-qemu.raw'));
      expect(qemuImgStatus('compare', '-f', 'raw', '-F', 'raw', tmp.path('sparse-out.raw'), src).output).toContain('Images are identical');
      expect(qemuImg('map', '--output=json', '-f', 'raw', tmp.path('sparse-out.raw'))).toBe(qemuImg('map', '--output=json', '-f', 'raw', tmp.path('sparse-out-qemu.raw')));
      expect(read.mock.calls.reduce((n, [buf]) => n + buf.length, 0)).toBeLessThanOrEqual(8 * MiB);
    } finally {
      read.mockRestore();
    }
  });
});

/** qemu-img map's runs of a qcow2 image as data or not, host offsets left out (the layouts differ). */
function allocation(path: string): { start: number; length: number; data: boolean }[] {
  const out: { start: number; length: number; data: boolean }[] = [];
  for (const e of JSON.parse(qemuImg('map', '--output=json', path)) as { start: number; length: number; data: boolean }[]) {
    const last = out[out.length - 1];
    if (last !== undefined && last.data === e.data && last.start + last.length === e.start) last.length += e.length;
    else out.push({ start: e.start, length: e.length, data: e.data });
  }
  return out;
}
