import { lstat, readFile, readdir, readlink, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { itNeeds } from '../../../test/support/requirements.js';
import { gzip, sha256, snapshot, streamOf, tarOf, tempDir, type FixtureEntry } from './layer-builder.test-support.js';
import { unpackLayer, unpackLayers } from './unpack.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const T = (seconds: number) => new Date(seconds * 1000);

const everyType: FixtureEntry[] = [
  { name: './', mode: 0o755, mtime: T(1000) },
  { name: 'bin/', mtime: T(1001) },
  { name: 'bin/busybox', content: 'busybox binary', mode: 0o755, mtime: T(1002) },
  { name: 'bin/su', content: 'su', mode: 0o4755, mtime: T(1003) },
  { name: 'bin/wall', content: 'wall', mode: 0o2755, gid: 5, mtime: T(1004) },
  { name: 'bin/sh', type: 'symlink', linkname: 'busybox', uid: 7, gid: 8, mtime: T(1005) },
  { name: 'bin/ls', type: 'link', linkname: 'bin/busybox' },
  { name: 'etc/', mtime: T(1006) },
  { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n', mtime: T(1007) },
  { name: 'etc/mtab', type: 'symlink', linkname: '/proc/self/mounts', mtime: T(1008) },
  { name: 'tmp/', mode: 0o1777, mtime: T(1009) },
  { name: 'home/user/', mode: 0o700, uid: 1000, gid: 1000, mtime: T(1010) },
  { name: 'home/user/notes', content: 'private', mode: 0o600, uid: 1000, gid: 1000, mtime: T(1011) },
  { name: 'dev/', mtime: T(1012) },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime: T(1013) },
  { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6, mtime: T(1014) },
  { name: 'run/initctl', type: 'fifo', mode: 0o600, mtime: T(1015) },
];

describe('unpackLayer round trip', () => {
  itNeeds({ root: true })('recreates every entry type with its mode, owner and mtime', async () => {
    const blob = gzip(await tarOf(everyType));
    const rootfs = join(dir, 'rootfs');
    const summary = await unpackLayer(streamOf(blob), rootfs, { expectedDigest: sha256(blob) });
    expect(summary).toMatchObject({ mode: 'staged', compression: 'gzip', entries: everyType.length, digest: sha256(blob), warnings: [] });

    const at = async (path: string) => lstat(join(rootfs, path));
    const check = async (path: string, type: string, mode: number, uid: number, gid: number, mtime: number) => {
      const stat = await at(path);
      const kind = stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : stat.isFIFO() ? 'fifo' : stat.isCharacterDevice() ? 'char' : stat.isBlockDevice() ? 'block' : 'file';
      expect({ path, kind, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, mtime: stat.mtimeMs / 1000 }).toEqual({ path, kind: type, mode, uid, gid, mtime });
    };
    await check('', 'dir', 0o755, 0, 0, 1000);
    await check('bin', 'dir', 0o755, 0, 0, 1001);
    await check('bin/su', 'file', 0o4755, 0, 0, 1003);
    await check('bin/wall', 'file', 0o2755, 0, 5, 1004);
    await check('tmp', 'dir', 0o1777, 0, 0, 1009);
    await check('home/user', 'dir', 0o700, 1000, 1000, 1010);
    await check('home/user/notes', 'file', 0o600, 1000, 1000, 1011);
    await check('dev/null', 'char', 0o666, 0, 0, 1013);
    await check('dev/loop0', 'block', 0o660, 0, 6, 1014);
    await check('run/initctl', 'fifo', 0o600, 0, 0, 1015);
    expect((await at('bin/sh')).isSymbolicLink()).toBe(true);
    expect(await readlink(join(rootfs, 'bin/sh'))).toBe('busybox');
    expect(await readlink(join(rootfs, 'etc/mtab'))).toBe('/proc/self/mounts');
    expect(await at('bin/sh')).toMatchObject({ uid: 7, gid: 8, mtimeMs: 1005_000 });
    expect((await at('bin/ls')).ino).toBe((await at('bin/busybox')).ino);
    expect((await at('dev/null')).rdev).toBe((1 << 8) | 3);
    expect(await readFile(join(rootfs, 'home/user/notes'), 'utf8')).toBe('private');
    // Nothing left beside the target.
    expect(await readdir(dir)).toEqual(['rootfs']);
  });

  it('skips device nodes rootless, with a warning, and still creates fifos', async () => {
    const rootfs = join(dir, 'rootfs');
    const summary = await unpackLayer(streamOf(await tarOf(everyType)), rootfs, { rootless: true });
    expect(summary.compression).toBe('none');
    expect(summary.warnings.map((w) => w.entry)).toEqual(['dev/null', 'dev/loop0']);
    expect(summary.warnings[0].reason).toMatch(/char device 1:3 skipped.*rootless/);
    expect(await readdir(join(rootfs, 'dev'))).toEqual([]);
    expect((await lstat(join(rootfs, 'run/initctl'))).isFIFO()).toBe(true);
    // Ownership is the unpacking user's; modes are still the layer's.
    expect((await lstat(join(rootfs, 'home/user/notes'))).uid).toBe(process.getuid!());
    expect((await lstat(join(rootfs, 'home/user'))).mode & 0o7777).toBe(0o700);
  });

  it('passes xattrs from PAX records to the setXattr hook, and warns when there is none', async () => {
    const layer = await tarOf([
      { name: 'bin/', pax: { 'SCHILY.xattr.user.dir': 'd' } },
      { name: 'bin/ping', content: 'ping', pax: { 'SCHILY.xattr.security.capability': 'caps', 'SCHILY.xattr.user.x': 'y' } },
    ]);
    const calls: Array<[string, string, string]> = [];
    const rootfs = join(dir, 'rootfs');
    await unpackLayer(streamOf(layer), rootfs, {
      rootless: true,
      specialFiles: { setXattr: async (path, name, value) => void calls.push([path, name, value.toString()]) },
    });
    // Paths are reported inside the staging directory, which is renamed to rootfs afterwards.
    expect(calls.map(([path, name, value]) => [path.split('/').slice(-2).join('/'), name, value])).toEqual([
      [expect.stringMatching(/unpack-.*\/bin$/), 'user.dir', 'd'],
      ['bin/ping', 'security.capability', 'caps'],
      ['bin/ping', 'user.x', 'y'],
    ]);
    const noHook = await unpackLayer(streamOf(layer), join(dir, 'other'), { rootless: true, specialFiles: { setXattr: undefined } });
    expect(noHook.warnings).toEqual([
      { entry: 'bin/', reason: 'xattrs not set (no setXattr provider): user.dir' },
      { entry: 'bin/ping', reason: 'xattrs not set (no setXattr provider): security.capability, user.x' },
    ]);
  });

  it('sets xattrs for real through @isola/sys by default', async () => {
    const { lgetxattr } = await import('@isola/sys');
    const layer = await tarOf([{ name: 'file', content: 'x', pax: { 'SCHILY.xattr.user.isola': 'value' } }]);
    await unpackLayer(streamOf(layer), join(dir, 'xattrs'), { rootless: true });
    expect(lgetxattr(join(dir, 'xattrs', 'file'), 'user.isola').toString()).toBe('value');
  });

  it('reads a blob from a path and reports its digests and sizes', async () => {
    const tar = await tarOf([{ name: 'a', content: 'abc' }]);
    const blob = gzip(tar);
    await writeFile(join(dir, 'blob'), blob);
    const summary = await unpackLayer(join(dir, 'blob'), join(dir, 'rootfs'), { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', rootless: true });
    expect(summary).toMatchObject({ digest: sha256(blob), diffId: sha256(tar), blobBytes: blob.length, tarBytes: tar.length, fileBytes: 3, entries: 1 });
  });
});

describe('unpackLayer refuses bad blobs and leaves nothing behind', () => {
  it('names zstd as unsupported, by magic and by media type', async () => {
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    await expect(unpackLayer(streamOf(zstd), join(dir, 'r'))).rejects.toMatchObject({
      code: 'ELAYER_COMPRESSION',
      message: expect.stringMatching(/^zstd-compressed layer .* is not supported/),
    });
    await expect(unpackLayer(streamOf(Buffer.alloc(1024)), join(dir, 'r'), { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' })).rejects.toMatchObject({
      code: 'ELAYER_COMPRESSION',
    });
    await expect(unpackLayer(streamOf(Buffer.alloc(1024)), join(dir, 'r'), { mediaType: 'application/vnd.oci.image.config.v1+json' })).rejects.toThrow(
      /is not a layer/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails on a digest or diff_id mismatch without creating the target', async () => {
    const tar = await tarOf([{ name: 'a', content: 'abc' }]);
    const blob = gzip(tar);
    const wrong = sha256(Buffer.from('something else'));
    await expect(unpackLayer(streamOf(blob), join(dir, 'r'), { expectedDigest: wrong, rootless: true })).rejects.toMatchObject({
      code: 'ELAYER_DIGEST',
      message: `layer digest mismatch: expected ${wrong}, got ${sha256(blob)}`,
    });
    await expect(unpackLayer(streamOf(blob), join(dir, 'r'), { expectedDiffId: wrong, rootless: true })).rejects.toMatchObject({ code: 'ELAYER_DIGEST' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails on truncated gzip, fresh and layered, leaving the target as it was', async () => {
    const blob = gzip(await tarOf([{ name: 'a', content: 'x'.repeat(100_000) }, { name: 'b', content: 'y' }]));
    const cut = blob.subarray(0, blob.length - 20);
    await expect(unpackLayer(streamOf(cut), join(dir, 'r'), { rootless: true })).rejects.toMatchObject({ code: 'ELAYER_TRUNCATED' });
    expect(await readdir(dir)).toEqual([]);

    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'keep'), { recursive: true });
    const before = await snapshot(rootfs);
    await expect(unpackLayer(streamOf(cut), rootfs, { rootless: true })).rejects.toMatchObject({ code: 'ELAYER_TRUNCATED' });
    expect(await snapshot(rootfs)).toEqual(before);
    expect(await readdir(dir)).toEqual(['rootfs']);
  });

  it('names the layer whose bytes are not a tar, and creates nothing', async () => {
    const notTar = gzip(Buffer.from('this is a text file, not a tar archive\n'));
    await expect(unpackLayer(streamOf(notTar), join(dir, 'r'), { rootless: true, expectedDigest: sha256(notTar) })).rejects.toMatchObject({
      code: 'ELAYER_TRUNCATED',
      message: `layer ${sha256(notTar)}: tar truncated: inside a header (at byte 39)`,
      details: { layer: sha256(notTar) },
    });
    const path = join(dir, 'blob.tar');
    await writeFile(path, Buffer.alloc(1024, 0x41));
    await expect(unpackLayers([{ source: path }], join(dir, 'stack'), { rootless: true })).rejects.toMatchObject({
      code: 'ELAYER_TAR',
      message: expect.stringMatching(new RegExp(`^layer ${path}: `)),
    });
    expect((await readdir(dir)).sort()).toEqual(['blob.tar']);
  });

  it('fails on a digest mismatch when layering, before writing anything', async () => {
    const rootfs = join(dir, 'rootfs');
    await unpackLayer(streamOf(await tarOf([{ name: 'a', content: 'lower' }])), rootfs, { rootless: true });
    const before = await snapshot(rootfs);
    const blob = gzip(await tarOf([{ name: 'a', content: 'upper' }, { name: '.wh.b' }]));
    await expect(unpackLayer(streamOf(blob), rootfs, { rootless: true, expectedDigest: sha256(Buffer.from('x')) })).rejects.toMatchObject({
      code: 'ELAYER_DIGEST',
    });
    expect(await snapshot(rootfs)).toEqual(before);
    expect(await readdir(dir)).toEqual(['rootfs']);
  });
});

describe('unpackLayers', () => {
  const lower: FixtureEntry[] = [{ name: 'etc/' }, { name: 'etc/a', content: 'a' }, { name: 'etc/b', content: 'b' }];
  const upper: FixtureEntry[] = [{ name: 'etc/.wh.a' }, { name: 'etc/c', content: 'c' }];

  it('makes a new rootfs from a stack of layers, whiteouts applied', async () => {
    const rootfs = join(dir, 'rootfs');
    const summaries = await unpackLayers([{ source: streamOf(await tarOf(lower)) }, { source: streamOf(gzip(await tarOf(upper))) }], rootfs, { rootless: true });
    expect(summaries.map((s) => [s.mode, s.compression])).toEqual([['staged', 'none'], ['staged', 'gzip']]);
    expect((await readdir(join(rootfs, 'etc'))).sort()).toEqual(['b', 'c']);
  });

  it('leaves nothing when any layer fails, and refuses a target that exists', async () => {
    const bad = gzip(await tarOf(upper));
    const layers = [{ source: streamOf(await tarOf(lower)) }, { source: streamOf(bad), options: { expectedDigest: sha256(Buffer.from('x')) } }];
    await expect(unpackLayers(layers, join(dir, 'rootfs'), { rootless: true })).rejects.toMatchObject({ code: 'ELAYER_DIGEST' });
    expect(await readdir(dir)).toEqual([]);
    await mkdir(join(dir, 'rootfs'));
    await expect(unpackLayers([], join(dir, 'rootfs'))).rejects.toMatchObject({ code: 'ELAYER_APPLY', message: expect.stringContaining('already exists') });
  });
});
