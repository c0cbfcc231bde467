import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { snapshot, tempDir } from '../layer-builder.test-support.js';
import { addToStore, buildImage } from '../store/image-builder.test-support.js';
import { ImageStore } from '../store/store.js';
import { createRootfs, overlayData, removeRootfs, type MountOps } from './mount.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: ImageStore;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = await ImageStore.open({ root: dir });
  const image = await buildImage([
    [{ name: 'bin/' }, { name: 'bin/sh', content: 'shell' }, { name: 'etc/' }, { name: 'etc/old', content: 'old' }, { name: 'opt/' }, { name: 'opt/a', content: 'a' }],
    [{ name: 'etc/' }, { name: 'etc/.wh.old' }, { name: 'etc/new', content: 'new' }, { name: 'opt/' }, { name: 'opt/.wh..wh..opq' }, { name: 'opt/b', content: 'b' }],
  ]);
  await addToStore(store, image, ['app']);
});
afterEach(() => cleanup());

function recorder(): MountOps & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return { calls, mount: (args) => void calls.push(['mount', args]), umount2: (target, flags) => void calls.push(['umount2', target, flags]) };
}

describe('container rootfs', () => {
  it('builds the overlay options top layer first, and refuses paths it cannot express', () => {
    expect(overlayData(['/l/2', '/l/1'], '/c/upper', '/c/work')).toBe('lowerdir=/l/2:/l/1,upperdir=/c/upper,workdir=/c/work');
    expect(overlayData(['/a:b'], '/u', '/w')).toBeUndefined();
    expect(overlayData(Array.from({ length: 60 }, (_, i) => `/var/lib/isola/image/layers/sha256/${String(i).padStart(64, '0')}`), '/u', '/w')).toBeUndefined();
  });

  itNeeds({ root: true, tools: ['setfattr'] })('mounts each chain ID as a lowerdir, in order, with the container dirs (recorded)', async () => {
    const ops = recorder();
    const rootfs = await createRootfs(store, 'app', 'c1', { mode: 'overlay', ops });
    const { record } = await store.resolve('app');
    const chains = (await import('../store/digest.js')).chainIds(record.diffIds);
    expect(rootfs.lowerdirs).toEqual([store.layers.path(chains[1]), store.layers.path(chains[0])]);
    const c = join(dir, 'image', 'containers', 'c1');
    expect(ops.calls).toEqual([['mount', { source: 'overlay', target: `${c}/merged`, fstype: 'overlay', flags: 0, data: `lowerdir=${rootfs.lowerdirs!.join(':')},upperdir=${c}/upper,workdir=${c}/work` }]]);
    // rmi refuses while a container uses the image, as docker does; with force the image goes, and
    // the leased layers stay while the container exists.
    await expect(store.remove(['app'])).rejects.toMatchObject({ code: 'EIMAGE_IN_USE', message: expect.stringContaining('container c1 uses it') });
    // `image prune -a` leaves it too, as docker's does.
    expect((await store.prune({ all: true })).deleted).toEqual([]);
    expect((await store.resolve('app')).record.digest).toBe(record.digest);
    await store.remove(['app'], { force: true });
    expect(await store.layers.list()).toHaveLength(2);
    await removeRootfs(store, 'c1', { ops });
    expect(ops.calls[1]).toEqual(['umount2', `${c}/merged`, 0]);
    await store.gc();
    expect(await store.layers.list()).toEqual([]);
  });

  itNeeds({ root: true, tools: ['setfattr'] })('mounts overlayfs for real: whiteouts apply, writes stay in the container, nothing is left after removal', async () => {
    const rootfs = await createRootfs(store, 'app', 'real', { mode: 'overlay' });
    const layersBefore = await snapshot(store.layers.dir);
    try {
      expect(rootfs.kind).toBe('overlay');
      expect((await readdir(join(rootfs.path, 'etc'))).sort()).toEqual(['new']);
      expect((await readdir(join(rootfs.path, 'opt'))).sort()).toEqual(['b']);
      await writeFile(join(rootfs.path, 'etc/new'), 'changed in the container');
      await writeFile(join(rootfs.path, 'bin/added'), 'x');
      await import('node:fs/promises').then((fs) => fs.rm(join(rootfs.path, 'bin/sh')));
      expect(await readFile(join(rootfs.path, 'etc/new'), 'utf8')).toBe('changed in the container');
      expect(await snapshot(store.layers.dir)).toEqual(layersBefore);
    } finally {
      await removeRootfs(store, 'real');
    }
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(rootfs.dir);
    expect(await readdir(join(dir, 'image', 'containers'))).toEqual([]);
    expect(await readdir(store.leases.dir)).toEqual([]);
  });

  it('falls back to a private copy of the layers', async () => {
    const rootfs = await createRootfs(store, 'app', 'copied', { mode: 'copy' });
    expect(rootfs.kind).toBe('copy');
    expect((await readdir(join(rootfs.path, 'etc'))).sort()).toEqual(['new']);
    expect((await readdir(join(rootfs.path, 'opt'))).sort()).toEqual(['b']);
    await expect(createRootfs(store, 'app', 'copied')).rejects.toMatchObject({ code: 'EIMAGE_IN_USE' });
    await removeRootfs(store, 'copied');
    expect(await readdir(join(dir, 'image', 'containers'))).toEqual([]);
    await expect(createRootfs(store, 'nope', 'x')).rejects.toMatchObject({ code: 'EIMAGE_NOT_FOUND' });
    await expect(createRootfs(store, 'app', '../evil')).rejects.toMatchObject({ code: 'EIMAGE_REFERENCE' });
  });
});
