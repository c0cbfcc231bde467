// Layers unpacked per chain ID, two at a time: a layer that fails does not stop or undo the others,
// the error is the first one in layer order, and nothing half-unpacked is left.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { gzip, tarOf, tempDir } from '../layer-builder.test-support.js';
import { chainIds } from './digest.js';
import { addToStore, buildImage } from './image-builder.test-support.js';
import { ImageStore } from './store.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('layer store', () => {
  itNeeds({ root: true })('unpacks the layers that are fine and reports the first one that is not', async () => {
    const store = await ImageStore.open({ root: dir });
    const layers = Array.from({ length: 4 }, (_, i) => [{ name: `l${i}/` }, ...Array.from({ length: 100 }, (_, j) => ({ name: `l${i}/f${j}`, content: `${i}.${j}` }))]);
    const image = await buildImage(layers);
    await addToStore(store, image, ['app']);
    const { record } = await store.resolve('app');
    // Layers 2 and 4 (of 4) go bad on disk after the store verified them.
    const other = gzip(await tarOf([{ name: 'other', content: 'not the layer the manifest names' }]));
    for (const bad of [1, 3]) await writeFile(store.blobs.path(record.layers[bad].digest), other);

    await expect(store.layers.ensure(record.layers, record.diffIds, 'app')).rejects.toMatchObject({
      code: 'ELAYER_DIGEST',
      message: expect.stringContaining(record.layers[1].digest),
    });
    const ids = chainIds(record.diffIds);
    expect((await store.layers.list()).sort()).toEqual([ids[0], ids[2]].sort());
    expect((await readdir(store.layers.dir)).filter((name) => name.startsWith('.'))).toEqual([]);
    expect((await readdir(join(store.layers.path(ids[2]), 'l2'))).length).toBe(100);
  });
});
