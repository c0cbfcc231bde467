// Layering semantics (layer.md "Applying Changesets" and "Whiteouts"), two layers onto one rootfs.
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshot, streamOf, tarOf, tempDir, type FixtureEntry } from '../layer-builder.test-support.js';
import { unpackLayer } from '../unpack.js';

let dir: string;
let cleanup: () => Promise<void>;
let rootfs: string;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  rootfs = join(dir, 'rootfs');
});
afterEach(() => cleanup());

async function apply(entries: FixtureEntry[]) {
  return unpackLayer(streamOf(await tarOf(entries)), rootfs, { rootless: true });
}

const lower: FixtureEntry[] = [
  { name: 'a/' },
  { name: 'a/b/' },
  { name: 'a/b/c/' },
  { name: 'a/b/c/bar', content: 'bar' },
  { name: 'etc/', mtime: new Date(5_000_000) },
  { name: 'etc/my-app-config', content: 'old config' },
  { name: 'bin/' },
  { name: 'bin/my-app-binary', content: 'bin' },
  { name: 'bin/tools/' },
  { name: 'bin/tools/my-app-tool-one', content: 'tool' },
  { name: 'keep/' },
  { name: 'keep/deep/' },
  { name: 'keep/deep/x', content: 'x' },
  { name: 'same/' },
  { name: 'was-file', content: 'file' },
  { name: 'was-dir/' },
  { name: 'was-dir/child', content: 'child' },
];

describe('whiteouts across two layers', () => {
  it('removes files and whole directories named by .wh. entries, and hides the markers', async () => {
    await apply(lower);
    const summary = await apply([
      { name: 'etc/.wh.my-app-config' },
      { name: 'etc/my-app.d/' },
      { name: 'etc/my-app.d/default.cfg', content: 'new config' },
      { name: '.wh.keep' },
      { name: '.wh.never-existed' },
    ]);
    const tree = await snapshot(rootfs);
    expect(Object.keys(tree).filter((p) => p.startsWith('etc') || p.startsWith('keep'))).toEqual(['etc', 'etc/my-app.d', 'etc/my-app.d/default.cfg']);
    expect(Object.keys(tree).some((p) => p.includes('.wh.'))).toBe(false);
    expect(summary.entries).toBe(5);
    // etc/ is not in the upper layer: removing a child must not change its mtime.
    expect((await lstat(join(rootfs, 'etc'))).mtimeMs).toBe(5_000_000);
  });

  it('empties an opaque directory of lower content, wherever the marker sits in the layer', async () => {
    await apply(lower);
    await apply([
      // The marker after the new content (layer.md's second example): still applied "first".
      { name: 'a/' },
      { name: 'a/b/' },
      { name: 'a/b/c/' },
      { name: 'a/b/c/foo', content: 'foo' },
      { name: 'a/.wh..wh..opq' },
      // The usual order: marker first.
      { name: 'bin/' },
      { name: 'bin/.wh..wh..opq' },
      { name: 'bin/new', content: 'new' },
    ]);
    const tree = await snapshot(rootfs);
    expect(Object.keys(tree).filter((p) => p.startsWith('a') || p.startsWith('bin'))).toEqual(['a', 'a/b', 'a/b/c', 'a/b/c/foo', 'bin', 'bin/new']);
  });

  it('never lets a whiteout hide what its own layer created', async () => {
    await apply(lower);
    await apply([{ name: 'same/new', content: 'made here' }, { name: 'same/.wh.new' }]);
    expect(await readFile(join(rootfs, 'same/new'), 'utf8')).toBe('made here');
  });

  it('replaces a file by a directory and a directory by a file, and merges directories', async () => {
    await apply(lower);
    await apply([
      { name: 'was-file/' },
      { name: 'was-file/inside', content: 'in' },
      { name: 'was-dir', content: 'now a file' },
      { name: 'a/', mode: 0o750 },
      { name: '.wh..wh.plnk/' },
    ]);
    expect((await lstat(join(rootfs, 'was-file'))).isDirectory()).toBe(true);
    expect(await readFile(join(rootfs, 'was-dir'), 'utf8')).toBe('now a file');
    // Directory over directory: attributes replaced, lower content kept.
    expect((await lstat(join(rootfs, 'a'))).mode & 0o777).toBe(0o750);
    expect(await readFile(join(rootfs, 'a/b/c/bar'), 'utf8')).toBe('bar');
    // aufs bookkeeping is not reproduced.
    expect(Object.keys(await snapshot(rootfs)).some((p) => p.includes('.wh.'))).toBe(false);
  });

  it('hard links to a file a lower layer created', async () => {
    await apply(lower);
    await apply([{ name: 'bin/again', type: 'link', linkname: '/bin/my-app-binary' }]);
    expect((await lstat(join(rootfs, 'bin/again'))).ino).toBe((await lstat(join(rootfs, 'bin/my-app-binary'))).ino);
  });

  it('writes through a lower layer symlink to a directory inside the rootfs (usrmerge)', async () => {
    await apply([{ name: 'usr/' }, { name: 'usr/lib/' }, { name: 'lib', type: 'symlink', linkname: 'usr/lib' }, { name: 'lib64', type: 'symlink', linkname: '/usr/lib' }]);
    await apply([{ name: 'lib/libc.so', content: 'libc' }, { name: 'lib64/ld.so', content: 'ld' }]);
    expect(await readFile(join(rootfs, 'usr/lib/libc.so'), 'utf8')).toBe('libc');
    expect(await readFile(join(rootfs, 'usr/lib/ld.so'), 'utf8')).toBe('ld');
    expect((await lstat(join(rootfs, 'lib'))).isSymbolicLink()).toBe(true);
  });
});

describe('file fast path', () => {
  it('keeps the mtime of a lower directory that gets a new file, and applies modes the umask would cut', async () => {
    await apply(lower);
    await apply([{ name: 'etc/added', content: 'new', mode: 0o666 }, { name: 'bin/ro', content: 'ro', mode: 0o444 }, { name: 'bin/suid', content: 's', mode: 0o4755 }]);
    expect((await lstat(join(rootfs, 'etc'))).mtimeMs).toBe(5_000_000);
    expect((await lstat(join(rootfs, 'etc/added'))).mode & 0o7777).toBe(0o666);
    expect((await lstat(join(rootfs, 'bin/ro'))).mode & 0o7777).toBe(0o444);
    expect((await lstat(join(rootfs, 'bin/suid'))).mode & 0o7777).toBe(0o4755);
    expect(await readFile(join(rootfs, 'bin/ro'), 'utf8')).toBe('ro');
  });
});
