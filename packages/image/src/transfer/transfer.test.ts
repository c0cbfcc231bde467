// Load and save in every format, with skopeo and umoci as the independent readers and writers.
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { tarOf, tempDir } from '../layer-builder.test-support.js';
import { addToStore, buildImage, builtBlob, descriptorOf, writeLayout, type BuiltImage } from '../store/image-builder.test-support.js';
import { MediaType } from '../store/oci.js';
import { ImageStore } from '../store/store.js';
import { encodeHeader, paddingOf } from '../tar/writer.js';
import { loadImage } from './load.js';
import { saveImages } from './save.js';

const run = promisify(execFile);
const skopeo = itNeeds({ tools: ['skopeo'] });

let dir: string;
let cleanup: () => Promise<void>;
let store: ImageStore;
let image: BuiltImage;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = await ImageStore.open({ root: join(dir, 'store') });
  image = await buildImage([
    [{ name: 'bin/' }, { name: 'bin/sh', content: 'shell', mode: 0o755 }, { name: 'etc/' }, { name: 'etc/old', content: 'old' }],
    [{ name: 'etc/' }, { name: 'etc/.wh.old' }, { name: 'etc/new', content: 'new' }],
  ]);
  await addToStore(store, image, ['example.com/test/app:v1']);
});
afterEach(() => cleanup());

async function freshStore(name: string) {
  return ImageStore.open({ root: join(dir, name) });
}

describe('save and load round trips', () => {
  for (const format of ['oci-dir', 'oci-archive', 'docker-archive'] as const) {
    it(`keeps the image and its name through ${format}`, async () => {
      const out = join(dir, `out-${format}`);
      await saveImages(store, ['example.com/test/app:v1'], { format, output: out });
      const other = await freshStore(`other-${format}`);
      const loaded = await loadImage(other, out);
      expect(loaded.format).toBe(format);
      expect(loaded.images.map((i) => [i.record.config, i.names])).toEqual([[image.config.digest, ['example.com/test/app:v1']]]);
      const record = (await other.resolve('example.com/test/app:v1')).record;
      expect(record.diffIds).toEqual(image.diffIds);
      // OCI keeps the very same manifest; docker archives carry none and layers go uncompressed.
      if (format !== 'docker-archive') expect(record.digest).toBe(image.manifest.digest);
      else expect(record.layers.map((l) => [l.mediaType, l.digest])).toEqual(image.diffIds.map((d) => [MediaType.layer, d]));
      expect(await readdir(other.blobs.tmp)).toEqual([]);
    });
  }

  it('loads from a stream, gzip-compressed too, and names an unnamed image with --tag', async () => {
    const layout = join(dir, 'layout');
    await writeLayout(layout, [{ image, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }]);
    const loaded = await loadImage(store, layout, { tag: 'named:now' });
    expect(loaded.images[0].names).toEqual(['docker.io/library/named:now']);
    const archive = join(dir, 'a.tar');
    await saveImages(store, ['named:now'], { format: 'docker-archive', output: archive });
    const { gzipSync } = await import('node:zlib');
    await writeFile(`${archive}.gz`, gzipSync(await readFile(archive)));
    const other = await freshStore('gz');
    const result = await loadImage(other, createReadStream(`${archive}.gz`));
    expect(result.images[0].names).toEqual(['docker.io/library/named:now']);
    expect(result.images[0].record.config).toBe(image.config.digest);
  });

  it('picks linux/amd64 from a multi-platform index', async () => {
    const arm = await buildImage([[{ name: 'arm', content: 'arm' }]], { architecture: 'arm64' });
    const index = builtBlob(
      MediaType.index,
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.index, manifests: [{ ...descriptorOf(arm.manifest), platform: { os: 'linux', architecture: 'arm64' } }, { ...descriptorOf(image.manifest), platform: { os: 'linux', architecture: 'amd64' } }] })),
    );
    const layout = join(dir, 'multi');
    await writeLayout(layout, [{ image }, { image: arm }], [index], [{ ...descriptorOf(index), annotations: { 'io.containerd.image.name': 'docker.io/library/multi:1' } }]);
    const other = await freshStore('multi');
    const loaded = await loadImage(other, layout, { platform: { os: 'linux', architecture: 'amd64' } });
    expect(loaded.images[0].record).toMatchObject({ digest: image.manifest.digest, index: index.digest });
    await expect(loadImage(other, layout, { platform: { os: 'linux', architecture: 's390x' } })).rejects.toMatchObject({
      code: 'EIMAGE_PLATFORM',
      message: expect.stringContaining('has no image for linux/s390x (it has: linux/arm64, linux/amd64)'),
    });
  });
});

describe('bad input', () => {
  it('refuses an archive blob whose bytes do not match its name, keeping nothing', async () => {
    const fake = `blobs/sha256/${'0'.repeat(64)}`;
    const tar = Buffer.concat([encodeHeader({ name: fake, size: 4, type: 'file' }), Buffer.from('evil'), paddingOf(4), Buffer.alloc(1024)]);
    await writeFile(join(dir, 'evil.tar'), tar);
    const other = await freshStore('evil');
    await expect(loadImage(other, join(dir, 'evil.tar'))).rejects.toMatchObject({ code: 'EIMAGE_DIGEST', message: expect.stringContaining(`${fake}: digest mismatch`) });
    expect(await other.blobs.list()).toEqual([]);
    expect(await readdir(other.blobs.tmp)).toEqual([]);
  });

  it('says what an unrecognised archive holds, and when a layout misses a blob', async () => {
    await writeFile(join(dir, 'x.tar'), await tarOf([{ name: 'hello.txt', content: 'hi' }]));
    await expect(loadImage(store, join(dir, 'x.tar'))).rejects.toThrow(/neither an OCI archive \(no index.json\) nor a docker archive \(no manifest.json\); it has: hello.txt/);
    const layout = join(dir, 'broken');
    await writeLayout(layout, [{ image, annotations: { 'org.opencontainers.image.ref.name': 'x/y:z' } }]);
    await import('node:fs/promises').then((fs) => fs.rm(join(layout, 'blobs', 'sha256', image.layers[1].digest.slice(7))));
    const other = await freshStore('broken');
    await expect(loadImage(other, layout)).rejects.toThrow(`${layout}: blobs/sha256/${image.layers[1].digest.slice(7)} is missing`);
    await expect(loadImage(store, join(dir, 'nope'))).rejects.toMatchObject({ code: 'EIMAGE_NOT_FOUND' });
  });
});

describe('bad input leaves nothing behind', () => {
  async function expectClean(other: ImageStore): Promise<void> {
    expect(await other.blobs.list()).toEqual([]);
    expect(await readdir(other.blobs.tmp)).toEqual([]);
    expect(await readdir(other.leases.dir)).toEqual([]);
    expect(await other.images()).toEqual([]);
  }

  it('names a truncated archive (plain or gzipped) and keeps none of the blobs it stored before the cut', async () => {
    const archive = join(dir, 'whole.tar');
    await saveImages(store, ['example.com/test/app:v1'], { format: 'oci-archive', output: archive });
    const bytes = await readFile(archive);
    const cut = bytes.length - 1500; // inside the last blob or index.json: the earlier blobs are already stored
    await writeFile(join(dir, 'cut.tar'), bytes.subarray(0, cut));
    await writeFile(join(dir, 'cut.tar.gz'), gzipSync(bytes).subarray(0, 600));
    const other = await freshStore('cut');
    await expect(loadImage(other, join(dir, 'cut.tar'))).rejects.toMatchObject({ message: expect.stringMatching(/cut\.tar: tar truncated: /) });
    await expectClean(other);
    await expect(loadImage(other, join(dir, 'cut.tar.gz'))).rejects.toMatchObject({ code: 'EIMAGE_FORMAT', message: expect.stringMatching(/cut\.tar\.gz: gzip: unexpected end of file$/) });
    await expectClean(other);
  });

  it('keeps none of the blobs of a layout that misses one, and names the archive of a docker manifest with ../ paths', async () => {
    const layout = join(dir, 'broken');
    await writeLayout(layout, [{ image, annotations: { 'org.opencontainers.image.ref.name': 'x/y:z' } }]);
    await rm(join(layout, 'blobs', 'sha256', image.layers[1].digest.slice(7)));
    const other = await freshStore('broken');
    await expect(loadImage(other, layout)).rejects.toThrow(`${layout}: blobs/sha256/${image.layers[1].digest.slice(7)} is missing`);
    await expectClean(other);
    const manifest = JSON.stringify([{ Config: '../../etc/passwd', RepoTags: ['x:1'], Layers: [] }]);
    await writeFile(join(dir, 'escape.tar'), await tarOf([{ name: 'manifest.json', content: manifest }]));
    await expect(loadImage(other, join(dir, 'escape.tar'))).rejects.toMatchObject({ code: 'ELAYER_PATH', message: expect.stringMatching(/escape\.tar: .*"\.\.\/\.\.\/etc\/passwd".* climbs out/) });
    await expectClean(other);
  });

  it('loads an archive with 65 MiB of files no image uses (past what it holds in memory), and keeps none of them', async () => {
    const layout = join(dir, 'spill');
    await saveImages(store, ['example.com/test/app:v1'], { format: 'oci-dir', output: layout });
    const junk = Array.from({ length: 65 }, (_, i) => ({ name: `junk/${i}`, content: Buffer.alloc(1 << 20, i) }));
    const files = [];
    for (const name of ['oci-layout', 'index.json', ...(await readdir(join(layout, 'blobs', 'sha256'))).map((h) => `blobs/sha256/${h}`)]) {
      files.push({ name, content: await readFile(join(layout, name)) });
    }
    await writeFile(join(dir, 'spill.tar'), await tarOf([...junk, ...files]));
    const other = await freshStore('spill');
    const loaded = await loadImage(other, join(dir, 'spill.tar'));
    expect(loaded.images.map((i) => i.record.digest)).toEqual([image.manifest.digest]);
    expect(await readdir(other.blobs.tmp)).toEqual([]);
    const { record } = await other.resolve('example.com/test/app:v1');
    expect((await other.blobs.list()).sort()).toEqual([record.digest, record.config, ...record.layers.map((l) => l.digest)].sort());
  });

  it('fails to save into a missing directory with one message naming it, and leaves no temp file or lease', async () => {
    const target = join(dir, 'no', 'such', 'out.tar');
    await expect(saveImages(store, ['example.com/test/app:v1'], { output: target })).rejects.toMatchObject({
      code: 'EIMAGE_STORE',
      message: expect.stringMatching(new RegExp(`^save example\\.com/test/app:v1 to ${target.replace(/[.]/g, '\\.')}: open\\(".*\\.out\\.tar\\.tmp-\\d+"\\): ENOENT \\(no such file or directory\\)$`)),
    });
    expect(await readdir(store.blobs.tmp)).toEqual([]);
    expect(await readdir(store.leases.dir)).toEqual([]);
  });
});

describe('skopeo and umoci read what isola writes, and isola reads what skopeo writes', () => {
  skopeo('skopeo inspects all three formats', async () => {
    const inspect = async (transport: string) => JSON.parse((await run('skopeo', ['inspect', transport])).stdout);
    await saveImages(store, ['example.com/test/app:v1'], { format: 'oci-dir', output: join(dir, 'oci') });
    await saveImages(store, ['example.com/test/app:v1'], { format: 'oci-archive', output: join(dir, 'oci.tar') });
    await saveImages(store, ['example.com/test/app:v1'], { format: 'docker-archive', output: join(dir, 'docker.tar') });
    expect(await inspect(`oci:${join(dir, 'oci')}:v1`)).toMatchObject({ Digest: image.manifest.digest, Architecture: 'amd64', Layers: image.layers.map((l) => l.digest) });
    expect(await inspect(`oci-archive:${join(dir, 'oci.tar')}`)).toMatchObject({ Digest: image.manifest.digest });
    expect(await inspect(`docker-archive:${join(dir, 'docker.tar')}`)).toMatchObject({ RepoTags: [], Layers: image.diffIds, Architecture: 'amd64' });
  });

  itNeeds({ root: true, tools: ['umoci'] })('umoci unpacks the saved layout with the whiteout applied', async () => {
    await saveImages(store, ['example.com/test/app:v1'], { format: 'oci-dir', output: join(dir, 'oci') });
    await run('umoci', ['unpack', '--image', `${join(dir, 'oci')}:v1`, join(dir, 'bundle')]);
    expect((await readdir(join(dir, 'bundle', 'rootfs', 'etc'))).sort()).toEqual(['new']);
  });

  skopeo('loads what skopeo copy writes as docker-archive, oci-archive and oci', async () => {
    await saveImages(store, ['example.com/test/app:v1'], { format: 'oci-dir', output: join(dir, 'oci') });
    const source = `oci:${join(dir, 'oci')}:v1`;
    await run('skopeo', ['copy', '-q', source, `docker-archive:${join(dir, 'd.tar')}:skopeo/app:v2`]);
    await run('skopeo', ['copy', '-q', source, `oci-archive:${join(dir, 'o.tar')}:v3`]);
    await run('skopeo', ['copy', '-q', source, `oci:${join(dir, 'o-dir')}:v4`]);
    const other = await freshStore('from-skopeo');
    const docker = await loadImage(other, join(dir, 'd.tar'));
    expect(docker.images.map((i) => [i.names, i.record.config, i.record.diffIds])).toEqual([[['docker.io/skopeo/app:v2'], image.config.digest, image.diffIds]]);
    const oci = await loadImage(other, join(dir, 'o.tar'), { tag: 'from/oci-archive:v3' });
    expect(oci.images[0].record.digest).toBe(image.manifest.digest);
    const ociDir = await loadImage(other, join(dir, 'o-dir'), { tag: 'from/oci:v4' });
    expect(ociDir.images[0].record.config).toBe(image.config.digest);
    expect((await other.images()).flatMap((i) => i.names).sort()).toEqual(['docker.io/from/oci-archive:v3', 'docker.io/from/oci:v4', 'docker.io/skopeo/app:v2']);
  });

  itNeeds({ files: ['/bin/busybox', join(import.meta.dirname, '../../../../tools/busybox-image/dist/cli.js')] })('imports the embedded busybox layout as busybox:latest', async () => {
    const layout = join(dir, 'busybox');
    await run(process.execPath, [join(import.meta.dirname, '../../../../tools/busybox-image/dist/cli.js'), '--out', layout]);
    const loaded = await loadImage(store, layout);
    expect(loaded.images[0].names).toEqual(['docker.io/library/busybox:latest']);
    expect((await store.resolve('busybox')).record.os).toBe('linux');
  });
});
