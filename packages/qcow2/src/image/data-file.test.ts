// External data files (qcow2.txt incompatible bit 2): the image holds only metadata, the data clusters
// live in a separate file. qemu-img and qemu-io make the images; `qemu-img convert -O raw` is the oracle.
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { imageInfo } from '../tools/info.js';
import { check } from './check.js';
import { tempDir } from '../../test/qemu.js';
import { openImage } from './open.js';

const tmp = tempDir('data-file');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img', 'qemu-io'] });

/**
 * qemu-img create, run in the test directory: qemu creates and opens a relative data file name against
 * its working directory. isola, run from elsewhere, finds it next to the image.
 */
function create(...args: string[]): void {
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', ...args], { cwd: tmp.dir, stdio: 'ignore' });
}

function qemuIo(path: string, ...commands: string[]): void {
  execFileSync('qemu-io', ['-f', 'qcow2', ...commands.flatMap((c) => ['-c', c]), path], { cwd: tmp.dir, stdio: 'ignore' });
}

/** The disk as qemu reads it. */
function qemuRead(path: string): Buffer {
  const raw = tmp.path(`${Math.random().toString(36).slice(2)}.raw`);
  execFileSync('qemu-img', ['convert', '-O', 'raw', path, raw], { cwd: tmp.dir, stdio: 'ignore' });
  return readFileSync(raw);
}

async function isolaRead(path: string): Promise<Buffer> {
  const image = await openImage(path, { readOnly: true });
  try {
    const buf = Buffer.alloc(image.size);
    await image.read(buf, 0);
    return buf;
  } finally {
    await image.close();
  }
}

const WRITES = ['write -P 5 8k 4k', 'write -P 6 0 1k', 'write -z 64k 8k', 'write -P 7 100k 300k', 'write -P 8 1020k 4k'];

describe('external data files', () => {
  for (const [name, options] of [
    ['plain', 'cluster_size=4096'],
    ['raw', 'cluster_size=65536,data_file_raw=on'],
    ['extended L2', 'cluster_size=65536,extended_l2=on'],
  ] as const) {
    it(`reads a ${name} data-file image as qemu does`, async () => {
      const path = tmp.path(`${name}.qcow2`);
      create('-o', `data_file=${name}.data,${options}`, path, '1M');
      qemuIo(path, ...WRITES);
      const expected = qemuRead(path);
      expect(expected.subarray(100 * 1024, 400 * 1024).every((b) => b === 7)).toBe(true);
      expect((await isolaRead(path)).equals(expected)).toBe(true);
      const [info] = await imageInfo(path);
      expect(info['format-specific']).toMatchObject({ data: { 'data-file': `${name}.data`, 'data-file-raw': name === 'raw' } });
      const result = await check(path);
      expect(result).toMatchObject({ corruptions: 0, leaks: 0, checkErrors: 0 });
    });
  }

  it('reads an overlay whose backing file keeps its data in a data file', async () => {
    const base = tmp.path('base.qcow2');
    create('-o', 'data_file=base.data,cluster_size=4096', base, '1M');
    qemuIo(base, ...WRITES);
    const top = tmp.path('top.qcow2');
    create('-b', 'base.qcow2', '-F', 'qcow2', top);
    qemuIo(top, 'write -P 9 6k 4k');
    expect((await isolaRead(top)).equals(qemuRead(top))).toBe(true);
  });

  it('refuses to open a data-file image read-write, and leaves it as it was', async () => {
    const path = tmp.path('plain.qcow2');
    const before = readFileSync(path);
    await expect(openImage(path)).rejects.toMatchObject({ code: 'EQCOW2_NOT_WRITABLE', message: expect.stringMatching(/external data file/) });
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('names a missing data file, and an image that sets the bit but names none', async () => {
    const path = tmp.path('moved.qcow2');
    create('-o', 'data_file=moved.data', path, '1M');
    renameSync(tmp.path('moved.data'), tmp.path('elsewhere.data'));
    await expect(openImage(path, { readOnly: true })).rejects.toMatchObject({ code: 'EQCOW2_DATA_FILE', message: expect.stringMatching(/moved\.data/) });
    const bytes = readFileSync(path);
    const at = bytes.indexOf(Buffer.from([0x44, 0x41, 0x54, 0x41]), 104);
    bytes.writeUInt32BE(0x12345678, at); // the data file extension becomes an unknown one
    writeFileSync(path, bytes);
    await expect(openImage(path, { readOnly: true })).rejects.toMatchObject({ code: 'EQCOW2_BAD_HEADER', message: expect.stringMatching(/does not name one/) });
  });
});
