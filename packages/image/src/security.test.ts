// Malicious layers: each one either fails with a LayerError naming the entry and leaves the target
// as it was, or (symlinks, absolute names) is confined to the rootfs the way the container will see
// it. In every case the directory beside the rootfs, `outside`, must come through untouched.
import { lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshot, streamOf, tarOf, tempDir, type FixtureEntry } from './layer-builder.test-support.js';
import { unpackLayer } from './unpack.js';

let dir: string;
let cleanup: () => Promise<void>;
let rootfs: string;
let outside: string;
let outsideBefore: Awaited<ReturnType<typeof snapshot>>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  rootfs = join(dir, 'rootfs');
  outside = join(dir, 'outside');
  await mkdir(join(outside, 'sub'), { recursive: true });
  await writeFile(join(outside, 'victim'), 'precious');
  await writeFile(join(outside, 'sub/file'), 'also precious');
  outsideBefore = await snapshot(outside);
});
afterEach(async () => {
  // The invariant of this whole file.
  expect(await snapshot(outside)).toEqual(outsideBefore);
  await cleanup();
});

async function apply(entries: FixtureEntry[], target = rootfs) {
  return unpackLayer(streamOf(await tarOf(entries)), target, { rootless: true });
}

let cases = 0;

/** Fails fresh (nothing created) and layered (lower layer unchanged, nothing of the layer written). */
async function expectRefused(entries: FixtureEntry[], code: string, entry: string, reason: RegExp) {
  const base = join(dir, `case-${++cases}`);
  await mkdir(base);
  const target = join(base, 'rootfs');
  const expected = { code, details: { entry }, message: expect.stringMatching(reason) };
  await expect(apply(entries, target)).rejects.toMatchObject(expected);
  expect(await readdir(base)).toEqual([]);

  await apply([{ name: 'lower', content: 'lower' }], target);
  const before = await snapshot(target);
  // A harmless entry first: the first pass must refuse the layer before writing it.
  await expect(apply([{ name: 'written-too-early', content: 'x' }, ...entries], target)).rejects.toMatchObject(expected);
  expect(await snapshot(target)).toEqual(before);
  expect(await readdir(base)).toEqual(['rootfs']);
}

describe('entry names', () => {
  it('refuses ../ that climbs out of the rootfs', async () => {
    await expectRefused([{ name: '../outside/evil', content: 'x' }], 'ELAYER_PATH', '../outside/evil', /climbs out of the rootfs/);
    await expectRefused([{ name: 'a/../../outside/evil', content: 'x' }], 'ELAYER_PATH', 'a/../../outside/evil', /climbs out/);
  });

  it('treats an absolute name as relative to the rootfs', async () => {
    await apply([{ name: `${outside}/victim`, content: 'overwritten?' }]);
    expect((await lstat(join(rootfs, outside, 'victim'))).size).toBe('overwritten?'.length);
  });

  it('refuses to turn the rootfs itself into a symlink', async () => {
    await expectRefused([{ name: './', type: 'symlink', linkname: outside }], 'ELAYER_PATH', './', /would replace the rootfs itself/);
  });
});

describe('symlinks', () => {
  it('confines a write through a symlinked parent to the rootfs, absolute or relative', async () => {
    await apply([
      { name: 'abs', type: 'symlink', linkname: outside },
      { name: 'abs/pwned', content: 'x' },
      { name: 'rel', type: 'symlink', linkname: `../../../../../../../../..${outside}/sub` },
      { name: 'rel/pwned', content: 'y' },
      // A chain: a -> b -> / (the rootfs's /, not the host's).
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'b', type: 'symlink', linkname: '/..' },
      { name: 'a/top', content: 'z' },
    ]);
    // Where the container will see them: its own /<outside>/..., and its own /top.
    expect((await lstat(join(rootfs, outside, 'pwned'))).isFile()).toBe(true);
    expect((await lstat(join(rootfs, outside, 'sub/pwned'))).isFile()).toBe(true);
    expect((await lstat(join(rootfs, 'top'))).isFile()).toBe(true);
  });

  it('replaces a symlink named by a later entry instead of writing through it', async () => {
    await apply([{ name: 'link', type: 'symlink', linkname: join(outside, 'victim') }]);
    await apply([{ name: 'link', content: 'replaced' }]);
    expect((await lstat(join(rootfs, 'link'))).isFile()).toBe(true);
  });

  it('refuses a symlink loop', async () => {
    await expect(apply([{ name: 'loop', type: 'symlink', linkname: 'loop' }, { name: 'loop/x', content: 'x' }])).rejects.toMatchObject({
      code: 'ELAYER_PATH',
      message: expect.stringMatching(/more than 255 symlinks/),
    });
    expect(await readdir(dir)).toEqual(['outside']);
  });
});

describe('hard links', () => {
  it('refuses a hard link target that climbs out of the rootfs', async () => {
    await expectRefused([{ name: 'h', type: 'link', linkname: '../outside/victim' }], 'ELAYER_LINK', 'h', /outside the rootfs/);
  });

  it('resolves an absolute or symlinked hard link target inside the rootfs, where it does not exist', async () => {
    await expectRefused([{ name: 'h', type: 'link', linkname: join(outside, 'victim') }], 'ELAYER_LINK', 'h', /not in this layer or a lower one/);
    await expect(apply([{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 'evil/victim' }])).rejects.toMatchObject({
      code: 'ELAYER_LINK',
      details: { entry: 'h' },
    });
    expect((await lstat(join(outside, 'victim'))).nlink).toBe(1);
  });

  it('refuses a hard link to a directory', async () => {
    await expectRefused([{ name: 'd/' }, { name: 'h', type: 'link', linkname: 'd' }], 'ELAYER_LINK', 'h', /is a directory/);
  });
});

describe('whiteouts', () => {
  it('refuses whiteouts that name the parent or climb out', async () => {
    await expectRefused([{ name: '../.wh.outside' }], 'ELAYER_PATH', '../.wh.outside', /climbs out/);
    await expectRefused([{ name: 'x/.wh..' }], 'ELAYER_PATH', 'x/.wh..', /whiteout names "\."/);
    await expectRefused([{ name: '.wh...' }], 'ELAYER_PATH', '.wh...', /whiteout names "\.\."/);
  });

  it('does not delete through a symlink, explicitly or opaquely', async () => {
    await apply([{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'rel', type: 'symlink', linkname: '../outside' }]);
    await apply([{ name: 'evil/.wh.victim' }, { name: 'evil/.wh..wh..opq' }, { name: 'rel/.wh.sub' }, { name: 'rel/.wh..wh..opq' }]);
    // Whiting out the symlink removes the link, not what it points at.
    await apply([{ name: '.wh.evil' }]);
    expect(await readdir(rootfs)).toEqual(['rel']);
  });
});

describe('device nodes', () => {
  it('skips them rootless instead of failing or faking them', async () => {
    const summary = await apply([{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }]);
    expect(summary.warnings).toEqual([{ entry: 'dev/sda', reason: expect.stringMatching(/block device 8:0 skipped/) }]);
    expect(await readdir(rootfs)).toEqual([]);
  });
});
