// End to end against the host's real busybox-static: the layout is checked by re-hashing every blob,
// then handed to umoci and skopeo, which know nothing of how it was made.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describeError } from '@isola/errors';
import { extract, type Header } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itNeeds } from '../../../test/support/requirements.js';
import { buildBusyboxImage, type BuildResult } from './build.js';

const BUSYBOX = '/bin/busybox';
const hostArch = process.arch === 'x64' ? 'amd64' : process.arch;
const withBusybox = itNeeds({ files: [BUSYBOX] });

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** A blob's bytes, after checking that they hash to the digest and have the size the descriptor claims. */
function readBlob(dir: string, descriptor: Descriptor): Buffer {
  const bytes = readFileSync(join(dir, 'blobs', ...descriptor.digest.split(':')));
  expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(descriptor.digest);
  expect(bytes.length).toBe(descriptor.size);
  return bytes;
}

/** Walks index.json → manifest → config and layer, verifying every digest on the way. */
function readImage(dir: string) {
  expect(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  expect(index.schemaVersion).toBe(2);
  expect(index.manifests).toHaveLength(1);
  const entry: Descriptor = index.manifests[0];
  expect(entry.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  const manifest = JSON.parse(readBlob(dir, entry).toString());
  expect(manifest).toMatchObject({ schemaVersion: 2, mediaType: entry.mediaType });
  expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
  const config = JSON.parse(readBlob(dir, manifest.config).toString());
  expect(manifest.layers).toHaveLength(1);
  expect(manifest.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
  const layer = readBlob(dir, manifest.layers[0]);
  return { entry, manifest, config, layer, tar: gunzipSync(layer) };
}

async function untar(tar: Buffer): Promise<Map<string, { header: Header; content: Buffer }>> {
  const entries = new Map<string, { header: Header; content: Buffer }>();
  const reader = extract();
  reader.end(tar);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.set(entry.header.name, { header: entry.header, content: Buffer.concat(chunks) });
  }
  return entries;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let work: string;
let image: string;
let first: BuildResult;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'isola-busybox-image-'));
  image = join(work, 'images', 'busybox');
  if (existsSync(BUSYBOX)) first = await buildBusyboxImage({ outDir: image });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('buildBusyboxImage', () => {
  withBusybox('writes an OCI layout whose blobs all match their digests', async () => {
    expect(first).toEqual({ path: image, manifestDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), rebuilt: true });
    const { entry, config, tar } = readImage(image);
    expect(entry.digest).toBe(first.manifestDigest);
    expect(entry.annotations).toEqual({
      'org.opencontainers.image.ref.name': 'latest',
      'io.isola.image.name': 'busybox',
      'io.isola.busybox.source-digest': sha256(readFileSync(BUSYBOX)),
      'io.isola.busybox.builder-revision': '1',
    });
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [sha256(tar)] });
    expect(config).toMatchObject({
      architecture: hostArch,
      os: 'linux',
      config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    });
    const version = execFileSync(BUSYBOX, ['--help']).toString().split('\n')[0].replace(' multi-call binary.', '');
    expect(config.history).toEqual([{ created: '1970-01-01T00:00:00.000Z', created_by: `isola-build-busybox-image: ${version}` }]);
    // Nothing else in blobs/: no temp file survived the renames.
    expect(readdirSync(join(image, 'blobs', 'sha256')).sort()).toHaveLength(3);
  });

  withBusybox('puts busybox and a hard link per applet in the layer', async () => {
    const entries = await untar(readImage(image).tar);
    expect(entries.get('bin/busybox')?.header).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0 });
    expect(entries.get('bin/busybox')?.content.equals(readFileSync(BUSYBOX))).toBe(true);
    expect(entries.get('bin/sh')?.header).toMatchObject({ type: 'link', linkname: 'bin/busybox' });
    const applets = execFileSync(BUSYBOX, ['--list-full']).toString().trim().split('\n');
    for (const applet of applets.filter((a) => a !== 'bin/busybox')) expect(entries.get(applet)?.header.type).toBe('link');
    expect(entries.get('tmp/')?.header).toMatchObject({ type: 'directory', mode: 0o1777 });
    expect(entries.get('root/')?.header).toMatchObject({ type: 'directory', mode: 0o700 });
    expect(entries.get('etc/passwd')?.content.toString()).toContain('root:x:0:0:');
  });

  withBusybox('reuses the image built from the same binary, and rebuilds identical bytes when forced', async () => {
    const layerBefore = readImage(image).layer;
    expect(await buildBusyboxImage({ outDir: image })).toEqual({ ...first, rebuilt: false });
    expect(await buildBusyboxImage({ outDir: image, force: true })).toEqual({ ...first, rebuilt: true });
    expect(readImage(image).layer.equals(layerBefore)).toBe(true);
    // The previous layout was moved aside and removed, not left next to the new one.
    expect(readdirSync(join(work, 'images'))).toEqual(['busybox']);
  });

  withBusybox('rebuilds when the host binary changes', async () => {
    const dir = join(work, 'changed');
    const binary = join(work, 'busybox-copy');
    copyFileSync(BUSYBOX, binary);
    const before = await buildBusyboxImage({ busybox: binary, outDir: dir });
    expect(before.manifestDigest).toBe(first.manifestDigest);
    // Bytes past the last segment change the digest without changing what the binary does.
    appendFileSync(binary, 'upgraded');
    const after = await buildBusyboxImage({ busybox: binary, outDir: dir });
    expect(after.rebuilt).toBe(true);
    expect(after.manifestDigest).not.toBe(before.manifestDigest);
  });

  withBusybox('rebuilds over a cached layout whose index.json is damaged', async () => {
    const dir = join(work, 'damaged');
    await buildBusyboxImage({ outDir: dir });
    writeFileSync(join(dir, 'index.json'), '{"manif');
    expect(await buildBusyboxImage({ outDir: dir })).toEqual({ path: dir, manifestDigest: first.manifestDigest, rebuilt: true });
  });

  withBusybox('says what failed and where, down to the errno, when the layout cannot be written', async () => {
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, '');
    const outDir = join(blocker, 'busybox');
    const error = await buildBusyboxImage({ outDir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EIMAGE_WRITE' });
    expect(describeError(error)).toBe(`write the busybox image to ${outDir}: EEXIST: file already exists, mkdir '${blocker}'`);
  });

  itNeeds({ files: [BUSYBOX], tools: ['umoci'] })('is unpacked by umoci into a rootfs whose sh runs', () => {
    const bundle = join(work, 'bundle');
    const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
    execFileSync('umoci', ['unpack', ...rootless, '--image', `${image}:latest`, bundle], { stdio: 'pipe' });
    const rootfs = join(bundle, 'rootfs');
    expect(execFileSync(join(rootfs, 'bin', 'sh'), ['-c', 'echo hi']).toString()).toBe('hi\n');
    expect(statSync(join(rootfs, 'usr', 'bin', 'env')).ino).toBe(statSync(join(rootfs, 'bin', 'busybox')).ino);
    expect(statSync(join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  itNeeds({ files: [BUSYBOX], tools: ['skopeo'] })('is accepted by skopeo inspect as oci:<dir>:latest', () => {
    const info = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${image}:latest`], { stdio: 'pipe' }).toString());
    expect(info).toMatchObject({ Digest: first.manifestDigest, Architecture: hostArch, Os: 'linux' });
    expect(info.Layers).toEqual([readImage(image).manifest.layers[0].digest]);
  });
});

describe('buildBusyboxImage without a usable busybox', () => {
  it('tells the user to install busybox-static when the binary is missing', async () => {
    const dir = join(work, 'never');
    const error = await buildBusyboxImage({ busybox: join(work, 'no-busybox'), outDir: dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EBUSYBOX_MISSING' });
    expect((error as Error).message).toBe(`${join(work, 'no-busybox')} not found: install it with \`apt-get install busybox-static\``);
    expect(readdirSync(work)).not.toContain('never');
  });

  it('refuses a dynamically linked binary, which could not run in the image', async () => {
    await expect(buildBusyboxImage({ busybox: process.execPath, outDir: join(work, 'never') })).rejects.toMatchObject({
      code: 'EBUSYBOX_DYNAMIC',
      message: expect.stringContaining('apt-get install busybox-static'),
    });
  });
});
