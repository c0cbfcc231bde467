import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamOf, tempDir } from '../layer-builder.test-support.js';
import { sha256Of } from './digest.js';
import { addToStore, buildImage } from './image-builder.test-support.js';
import { ImageStore, defaultStoreRoot } from './store.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: ImageStore;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = await ImageStore.open({ root: dir });
});
afterEach(() => cleanup());

const base = [{ name: 'bin/' }, { name: 'bin/sh', content: 'sh' }];
const app = [{ name: 'app/' }, { name: 'app/run', content: 'run' }];

describe('blob store', () => {
  it('stores by digest, verifies on write, and leaves nothing when the bytes are wrong', async () => {
    const bytes = Buffer.from('hello');
    expect(await store.blobs.put(streamOf(bytes, 2))).toEqual({ digest: sha256Of(bytes), size: 5 });
    expect((await store.blobs.read(sha256Of(bytes))).toString()).toBe('hello');
    const wrong = sha256Of('other');
    await expect(store.blobs.put(bytes, { digest: wrong, what: 'layer 1' })).rejects.toMatchObject({
      code: 'EIMAGE_DIGEST',
      message: `layer 1: digest mismatch: expected ${wrong}, got ${sha256Of(bytes)}`,
    });
    await expect(store.blobs.put(bytes, { size: 4 })).rejects.toMatchObject({ code: 'EIMAGE_DIGEST', message: expect.stringContaining('size mismatch') });
    expect(await store.blobs.list()).toEqual([sha256Of(bytes)]);
    expect(await readdir(store.blobs.tmp)).toEqual([]);
  });

  it('detects a blob corrupted on disk when reading it back', async () => {
    const { digest } = await store.blobs.put(Buffer.from('precious'));
    await writeFile(store.blobs.path(digest), 'flipped!');
    await expect(store.blobs.read(digest, 'image config')).rejects.toMatchObject({ code: 'EIMAGE_DIGEST', message: expect.stringContaining(`image config ${digest} is corrupt`) });
    const drain = async () => {
      for await (const _ of store.blobs.stream(digest)) void _;
    };
    await expect(drain()).rejects.toMatchObject({ code: 'EIMAGE_DIGEST' });
    await expect(store.blobs.read(sha256Of('absent'))).rejects.toMatchObject({ code: 'EIMAGE_MISSING_BLOB' });
    expect(() => store.blobs.path('sha256:../../etc/passwd')).toThrow(/not a sha256 digest/);
  });
});

describe('images and tags', () => {
  it('records an image, resolves it by tag, familiar name, digest and ID prefix', async () => {
    const image = await buildImage([base, app]);
    const record = await addToStore(store, image, ['busybox']);
    expect(record).toMatchObject({ digest: image.manifest.digest, config: image.config.digest, diffIds: image.diffIds, architecture: 'amd64' });
    expect(record.size).toBe(image.manifest.size + image.config.size + image.layers[0].size + image.layers[1].size);
    for (const text of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', image.config.digest, image.config.digest.slice(7, 19), image.manifest.digest, `busybox@${image.manifest.digest}`]) {
      expect((await store.resolve(text)).record.digest).toBe(image.manifest.digest);
    }
    await expect(store.resolve('nginx')).rejects.toMatchObject({
      code: 'EIMAGE_NOT_FOUND',
      message: `image "nginx" not found in ${join(dir, 'image')} (looked for docker.io/library/nginx:latest)`,
    });
    await expect(store.resolve('')).rejects.toMatchObject({ code: 'EIMAGE_REFERENCE', message: 'invalid image reference "": the name is empty' });
    expect(await store.images()).toEqual([expect.objectContaining({ id: image.config.digest, names: ['docker.io/library/busybox:latest'] })]);
  });

  it('refuses an image whose layer blob is missing', async () => {
    const image = await buildImage([base]);
    await store.blobs.put(image.config.bytes);
    await store.blobs.put(image.manifest.bytes);
    await expect(store.addImage(image.manifest.digest)).rejects.toMatchObject({ code: 'EIMAGE_MISSING_BLOB', message: expect.stringContaining('layer 1') });
  });

  it('moves a tag, untags before deleting, and needs force for a multi-tag ID', async () => {
    const one = await buildImage([base], { label: 'one' });
    const two = await buildImage([base, app], { label: 'two' });
    await addToStore(store, one, ['img:1', 'img:latest']);
    await addToStore(store, two, ['img:2']);
    expect(await store.tag('img:2', 'img:latest')).toBe('docker.io/library/img:latest');
    expect((await store.resolve('img')).record.digest).toBe(two.manifest.digest);

    await expect(store.remove([two.config.digest.slice(7, 15)])).rejects.toMatchObject({ code: 'EIMAGE_IN_USE', message: expect.stringContaining('img:2, img:latest') });
    const untag = await store.remove(['img:2']);
    expect(untag).toMatchObject({ untagged: ['docker.io/library/img:2'], deleted: [] });
    const removed = await store.remove(['img']);
    expect(removed.deleted).toEqual([two.manifest.digest]);
    // The base layer is shared with `one`: kept. `two`'s app layer, config and manifest are gone.
    expect(removed.gc.deletedBlobs.sort()).toEqual([two.manifest.digest, two.config.digest, two.layers[1].digest].sort());
    expect(removed.gc.refCounts.get(one.layers[0].digest)).toBe(1);
    expect(await store.blobs.has(one.layers[0].digest)).toBe(true);
  });

  it('prunes dangling images, keeps blobs under a live lease, and removes stale temp files', async () => {
    const one = await buildImage([base], { label: 'one' });
    const two = await buildImage([app], { label: 'two' });
    await addToStore(store, one, ['keep']);
    await addToStore(store, two, ['gone']);
    await store.tag('keep', 'gone'); // two is now dangling
    const lease = await store.lease();
    const orphan = await store.blobs.put(Buffer.from('being pulled'), {}, (d) => lease.addBlobs(d));
    await writeFile(join(store.blobs.tmp, 'ingest-999999999-abc'), 'left by a crash');

    const pruned = await store.prune();
    expect(pruned.deleted).toEqual([two.manifest.digest]);
    expect(pruned.gc.deletedBlobs).not.toContain(orphan.digest);
    expect(await readdir(store.blobs.tmp)).toEqual([]);
    await lease.release();
    expect((await store.gc()).deletedBlobs).toEqual([orphan.digest]);
    expect((await store.images()).map((i) => i.names)).toEqual([['docker.io/library/gone:latest', 'docker.io/library/keep:latest']]);
  });

  it('keeps its metadata in one JSON file, replaced atomically', async () => {
    await addToStore(store, await buildImage([base]), ['a']);
    const names = await readdir(join(dir, 'image'));
    expect(names.sort()).toEqual(['blobs', 'images.json', 'leases', 'tmp']);
    expect(JSON.parse(await readFile(join(dir, 'image', 'images.json'), 'utf8')).tags).toEqual({ 'docker.io/library/a:latest': expect.any(String) });
  });

  it('puts the store under $ISOLA_ROOT, else /var/lib/isola for root', () => {
    expect(defaultStoreRoot({ ISOLA_ROOT: '/x/y' })).toBe('/x/y');
    if (process.getuid?.() === 0) expect(defaultStoreRoot({})).toBe('/var/lib/isola');
  });
});
