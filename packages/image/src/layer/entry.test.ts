import { describe, expect, it } from 'vitest';
import type { TarHeader } from '../tar/header.js';
import { planEntry } from './entry.js';
import { ancestorsOf, normalizeLayerPath } from './path.js';

function header(name: string, type: TarHeader['type'] = 'file', extra: Partial<TarHeader> = {}): TarHeader {
  return { name, type, mode: 0o100644, uid: 1, gid: 2, size: 0, mtime: 10, linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, offset: 0, ...extra };
}
const plan = (h: TarHeader) => planEntry({ header: h, xattrs: new Map(), body: async function* () {} });

describe('normalizeLayerPath', () => {
  it('drops leading slashes, ./ and empty components, and resolves .. that stays inside', () => {
    expect(normalizeLayerPath('/etc//passwd', 'x')).toBe('etc/passwd');
    expect(normalizeLayerPath('./a/./b/../c/', 'x')).toBe('a/c');
    expect(normalizeLayerPath('./', 'x')).toBe('');
    expect(() => normalizeLayerPath('a/../../b', 'x')).toThrow(/climbs out/);
    expect(() => normalizeLayerPath('a\0b', 'x')).toThrow(/NUL/);
    expect(ancestorsOf('a/b/c')).toEqual(['a/b', 'a', '']);
  });
});

describe('planEntry', () => {
  it('classifies whiteouts, opaque markers and aufs metadata', () => {
    expect(plan(header('etc/.wh.passwd'))).toMatchObject({ kind: 'whiteout', path: 'etc/passwd' });
    expect(plan(header('./.wh.etc', 'directory'))).toMatchObject({ kind: 'whiteout', path: 'etc' });
    expect(plan(header('a/b/.wh..wh..opq'))).toMatchObject({ kind: 'opaque', path: 'a/b' });
    expect(plan(header('.wh..wh..opq'))).toMatchObject({ kind: 'opaque', path: '' });
    expect(plan(header('.wh..wh.plnk/', 'directory'))).toMatchObject({ kind: 'ignored' });
    expect(() => plan(header('a/.wh.'))).toThrow(/whiteout names ""/);
  });

  it('keeps permission and special bits only, and the attributes the writer needs', () => {
    expect(plan(header('bin/su', 'file', { mode: 0o104755, size: 3 }))).toMatchObject({
      kind: 'file',
      size: 3,
      attrs: { mode: 0o4755, uid: 1, gid: 2, mtime: 10, atime: 10 },
    });
    expect(plan(header('dev/null', 'char-device', { devmajor: 1, devminor: 3 }))).toMatchObject({ kind: 'device', device: 'char', major: 1, minor: 3 });
  });

  it('normalizes hard link targets and refuses the ones that cannot work', () => {
    expect(plan(header('bin/ls', 'hardlink', { linkname: '/bin/busybox' }))).toEqual({ kind: 'hardlink', path: 'bin/ls', name: 'bin/ls', target: 'bin/busybox' });
    expect(() => plan(header('x', 'hardlink', { linkname: '../../etc/shadow' }))).toThrow(expect.objectContaining({ code: 'ELAYER_LINK' }));
    expect(() => plan(header('x', 'hardlink', { linkname: './x' }))).toThrow(/to itself/);
    expect(() => plan(header('x', 'hardlink', { linkname: '/' }))).toThrow(/rootfs directory/);
  });
});
