import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { compiledPackage, runChild } from '../child-process.test-support.js';
import { tempDir } from '../layer-builder.test-support.js';
import { addToStore, buildImage } from './image-builder.test-support.js';
import { StoreLock, ownerToken } from './lock.js';
import { ImageStore } from './store.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

let compiled: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => (compiled = await compiledPackage()));
afterAll(() => compiled.cleanup());

describe('store lock', () => {
  it('lets two isola processes tag concurrently without losing an update', async () => {
    const store = await ImageStore.open({ root: dir });
    await addToStore(store, await buildImage([[{ name: 'a', content: 'a' }]]), ['base']);
    const body = (who: string) => `
      const store = await pkg.ImageStore.open({ root: ${JSON.stringify(dir)} });
      for (let i = 0; i < 40; i++) await store.tag('base', '${who}:' + i);
      await store.gc();
      console.log('done');`;
    const [a, b] = await Promise.all([runChild(compiled.dir, body('a')), runChild(compiled.dir, body('b'))]);
    expect([a.trim(), b.trim()]).toEqual(['done', 'done']);
    const names = (await store.images())[0].names;
    expect(names).toHaveLength(81);
    expect(await readdir(join(dir, 'image'))).not.toContain('lock');
  }, 60_000);

  it('breaks the lock of a process that died, and times out on a live one naming it', async () => {
    const path = join(dir, 'lock');
    await writeFile(path, '999999999 12345\n');
    const lock = new StoreLock(path);
    expect(await lock.with(async () => 'got it')).toBe('got it');

    await writeFile(path, ownerToken());
    await expect(new StoreLock(path).with(async () => 'never', { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'EIMAGE_LOCKED',
      message: `image store lock ${path} is held by pid ${process.pid}; gave up after 0 s`,
    });
  });

  it('is re-entrant within one call chain and queues parallel callers of one process', async () => {
    const lock = new StoreLock(join(dir, 'lock'));
    const order: string[] = [];
    await Promise.all([
      lock.with(async () => {
        order.push('a1');
        await lock.with(async () => order.push('nested'));
        await new Promise((r) => setTimeout(r, 20));
        order.push('a2');
      }),
      lock.with(async () => void order.push('b')),
    ]);
    expect(order).toEqual(['a1', 'nested', 'a2', 'b']);
  });
});
