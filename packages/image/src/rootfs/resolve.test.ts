import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../layer-builder.test-support.js';
import { RootResolver } from './resolve.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('RootResolver', () => {
  it('follows symlinks as the container sees them: absolute from the rootfs, .. stopping at it', async () => {
    await mkdir(join(dir, 'usr/lib'), { recursive: true });
    await writeFile(join(dir, 'usr/lib/file'), '');
    await symlink('usr/lib', join(dir, 'lib'));
    await symlink('/usr/lib', join(dir, 'abs'));
    await symlink('../../../../usr', join(dir, 'up'));
    await symlink('/etc/shadow', join(dir, 'shadow'));
    const resolver = new RootResolver(dir);
    expect(await resolver.resolve('lib/file')).toBe('usr/lib/file');
    expect(await resolver.resolve('abs/x/y')).toBe('usr/lib/x/y');
    expect(await resolver.resolve('up/lib')).toBe('usr/lib');
    expect(await resolver.resolve('shadow')).toBe('etc/shadow');
    // '..' after a symlink is physical here, as in the kernel (entry names arrive already
    // normalized lexically, as umoci's CleanPath does). The last component is never followed.
    expect(await resolver.resolveEntry('lib/../shadow')).toBe('usr/shadow');
    expect(await resolver.resolveEntry('abs')).toBe('abs');
    expect(resolver.host('usr/lib')).toBe(join(dir, 'usr/lib'));
  });

  it('answers again after forget() when a directory became a symlink', async () => {
    await mkdir(join(dir, 'a/b'), { recursive: true });
    const resolver = new RootResolver(dir);
    expect(await resolver.resolve('a/b')).toBe('a/b');
    await mkdir(join(dir, 'c'));
    await import('node:fs/promises').then((fs) => fs.rm(join(dir, 'a'), { recursive: true }));
    await symlink('c', join(dir, 'a'));
    resolver.forget();
    expect(await resolver.resolve('a/b')).toBe('c/b');
  });
});
