// umoci as the oracle: one two-layer OCI image, unpacked by `umoci unpack` and by unpackLayer, must
// give the same tree (names, types, modes, owners, link targets, device numbers, hard link groups,
// file contents).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { itNeeds } from '../../../test/support/requirements.js';
import { gzip, sha256, snapshot, tarOf, tempDir, type FixtureEntry } from './layer-builder.test-support.js';
import { unpackLayer } from './unpack.js';

const execFileAsync = promisify(execFile);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const base: FixtureEntry[] = [
  { name: './', mode: 0o755 },
  { name: 'bin/' },
  { name: 'bin/busybox', content: 'busybox', mode: 0o755 },
  { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
  { name: 'bin/ls', type: 'link', linkname: 'bin/busybox' },
  { name: 'bin/su', content: 'su', mode: 0o4755 },
  { name: 'bin/wall', content: 'wall', mode: 0o2711, gid: 5 },
  { name: 'dev/' },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
  { name: 'etc/' },
  { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
  { name: 'etc/old.conf', content: 'old' },
  { name: 'etc/mtab', type: 'symlink', linkname: '/proc/self/mounts' },
  { name: 'home/' },
  { name: 'home/user/', mode: 0o700, uid: 1000, gid: 1000 },
  { name: 'home/user/.profile', content: 'export PS1', mode: 0o600, uid: 1000, gid: 1000 },
  { name: 'opt/' },
  { name: 'opt/app/' },
  { name: 'opt/app/lib/' },
  { name: 'opt/app/lib/old.so', content: 'old lib' },
  { name: 'opt/app/VERSION', content: '1' },
  { name: 'run/' },
  { name: 'run/initctl', type: 'fifo', mode: 0o600 },
  { name: 'tmp/', mode: 0o1777 },
  { name: 'var/' },
  { name: 'var/cache/' },
  { name: 'var/cache/a', content: 'a' },
  { name: 'var/cache/b/' },
  { name: 'var/cache/b/c', content: 'c' },
  { name: 'was-file', content: 'file' },
];

const update: FixtureEntry[] = [
  { name: 'bin/' },
  { name: 'bin/busybox', content: 'busybox v2', mode: 0o755 },
  { name: 'bin/vi', type: 'link', linkname: 'bin/su' },
  { name: 'etc/' },
  { name: 'etc/.wh.old.conf' },
  { name: 'etc/new.conf', content: 'new', mode: 0o640, gid: 42 },
  { name: 'opt/app/' },
  { name: 'opt/app/.wh..wh..opq' },
  { name: 'opt/app/VERSION', content: '2' },
  { name: 'var/.wh.cache' },
  { name: 'was-file/', mode: 0o750 },
  { name: 'was-file/now-dir', content: 'inside' },
  { name: 'tmp/', mode: 0o1777 },
  { name: 'tmp/sock-like', type: 'symlink', linkname: '../run/initctl', uid: 3, gid: 4 },
];

interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

function blobOf(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes };
}

async function writeLayout(layout: string, layers: Array<{ blob: Blob; diffId: string }>): Promise<void> {
  const config = blobOf(
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } })),
  );
  const descriptor = ({ mediaType, digest, size }: Blob) => ({ mediaType, digest, size });
  const manifest = blobOf(
    'application/vnd.oci.image.manifest.v1+json',
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: descriptor(config), layers: layers.map((l) => descriptor(l.blob)) })),
  );
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [config, manifest, ...layers.map((l) => l.blob)]) await writeFile(join(layout, 'blobs', 'sha256', blob.digest.slice(7)), blob.bytes);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = { schemaVersion: 2, manifests: [{ ...descriptor(manifest), annotations: { 'org.opencontainers.image.ref.name': 'tag' } }] };
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
}

describe('umoci oracle', () => {
  itNeeds({ root: true, tools: ['umoci'] })('unpacks a two-layer image to the same tree as umoci unpack', async () => {
    const layers = [];
    for (const entries of [base, update]) {
      const tar = await tarOf(entries);
      layers.push({ blob: blobOf('application/vnd.oci.image.layer.v1.tar+gzip', gzip(tar)), diffId: sha256(tar) });
    }
    const layout = join(dir, 'layout');
    await writeLayout(layout, layers);
    await execFileAsync('umoci', ['unpack', '--image', `${layout}:tag`, join(dir, 'bundle')]);

    const rootfs = join(dir, 'isola');
    for (const { blob, diffId } of layers) {
      await unpackLayer(join(layout, 'blobs', 'sha256', blob.digest.slice(7)), rootfs, {
        mediaType: blob.mediaType,
        expectedDigest: blob.digest,
        expectedDiffId: diffId,
        rootless: false,
      });
    }

    const ours = await snapshot(rootfs);
    expect(ours).toEqual(await snapshot(join(dir, 'bundle', 'rootfs')));
    // The comparison is only as good as the fixture: make sure it exercised the interesting paths.
    expect(Object.keys(ours)).toEqual(expect.arrayContaining(['dev/null', 'run/initctl', 'bin/vi', 'was-file/now-dir', 'opt/app/VERSION']));
    expect(Object.keys(ours)).not.toEqual(expect.arrayContaining(['etc/old.conf']));
    expect(ours['opt/app/lib']).toBeUndefined();
    expect(ours['var/cache']).toBeUndefined();
  });
});
