// Layers big enough to go through the worker threads: blob files of 1 MiB and more are read and
// decompressed on blob-worker.ts, and small files are created by file-pool.ts workers. The results
// must be those of one thread applying the entries in order: umoci is the oracle.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { WORKER_BLOB_MIN } from '../layer/blob.js';
import { gzip, sha256, snapshot, tarOf, tempDir, type FixtureEntry } from '../layer-builder.test-support.js';
import { unpackLayer, unpackLayers } from '../unpack.js';
import { startFileWorkers } from './file-pool.js';

const execFileAsync = promisify(execFile);

let dir: string;
let cleanup: () => Promise<void>;
// Until the workers run, batches are created inline: start them first, so that these tests use them.
beforeAll(() => startFileWorkers());
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const T = (seconds: number) => new Date(seconds * 1000);
/** Incompressible, so that the gzip blob passes WORKER_BLOB_MIN. */
const big = randomBytes(WORKER_BLOB_MIN + 100_000);

/** `count` small files spread over `dirs` directories (interleaved, as a worst case for ordering). */
function files(prefix: string, count: number, dirs: number, extra: Partial<FixtureEntry> = {}): FixtureEntry[] {
  const entries: FixtureEntry[] = [{ name: `${prefix}/` }];
  for (let d = 0; d < dirs; d++) entries.push({ name: `${prefix}/d${d}/`, mtime: T(2000 + d) });
  for (let i = 0; i < count; i++) entries.push({ name: `${prefix}/d${i % dirs}/f${i}`, content: `${prefix} ${i} `.repeat(1 + (i % 40)), mtime: T(3000 + i), ...extra });
  return entries;
}

const lower: FixtureEntry[] = [
  ...files('usr', 400, 8),
  { name: 'opt/' },
  { name: 'opt/big.bin', content: big, mtime: T(4000) },
  { name: 'swap/' },
  ...Array.from({ length: 80 }, (_, i) => ({ name: `swap/f${i}`, content: `swap ${i}` })),
  { name: 'was-file', content: 'file' },
  { name: 'link-me', content: 'linked', mode: 0o4755 },
];

const upper: FixtureEntry[] = [
  // Replaces half of the lower files (queued, found in the way, redone on the main thread).
  ...Array.from({ length: 200 }, (_, i) => ({ name: `usr/d${(i * 2) % 8}/f${i * 2}`, content: `upper ${i}`, mode: 0o600, uid: 7, gid: 8, mtime: T(5000 + i) })),
  { name: 'usr/d3/.wh.f3' },
  ...files('new', 150, 5, { mode: 0o2755, gid: 5 }),
  { name: 'swap', content: 'a directory became a file' },
  { name: 'was-file/', mode: 0o750 },
  { name: 'was-file/inside', content: 'inside' },
  { name: 'new/d1/f1', content: 'the same path again: the later one wins' },
  { name: 'new/hard', type: 'link', linkname: 'link-me' },
  { name: 'new/d2/f2', type: 'symlink', linkname: '../d1/f1' },
  { name: 'opt/.wh..wh..opq' },
];

async function layoutOf(layers: FixtureEntry[][]): Promise<{ layout: string; blobs: Array<{ path: string; digest: string; diffId: string }> }> {
  const layout = join(dir, 'layout');
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  const blobs = [];
  for (const entries of layers) {
    const tar = await tarOf(entries);
    const blob = gzip(tar);
    const path = join(layout, 'blobs', 'sha256', sha256(blob).slice(7));
    await writeFile(path, blob);
    blobs.push({ path, digest: sha256(blob), diffId: sha256(tar), size: blob.length });
  }
  const put = async (bytes: Buffer) => {
    await writeFile(join(layout, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: blobs.map((b) => b.diffId) } })));
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: b.digest, size: b.size })),
      }),
    ),
  );
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'tag' } }] };
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  return { layout, blobs };
}

describe('layers unpacked on worker threads', () => {
  itNeeds({ root: true, tools: ['umoci'] })('give the tree umoci unpack gives, replacements, whiteouts and links included', async () => {
    const { layout, blobs } = await layoutOf([lower, upper]);
    expect(blobs[0].path).toBeDefined();
    expect((await lstat(blobs[0].path)).size).toBeGreaterThanOrEqual(WORKER_BLOB_MIN);
    await execFileAsync('umoci', ['raw', 'unpack', '--image', `${layout}:tag`, join(dir, 'umoci')]);
    const rootfs = join(dir, 'isola');
    for (const blob of blobs) await unpackLayer(blob.path, rootfs, { expectedDigest: blob.digest, expectedDiffId: blob.diffId, rootless: false });

    const ours = await snapshot(rootfs);
    expect(ours).toEqual(await snapshot(join(dir, 'umoci')));
    // The whole stack at once: the same tree, each blob read once.
    const stacked = join(dir, 'stacked');
    const summaries = await unpackLayers(blobs.map((b) => ({ source: b.path, options: { expectedDigest: b.digest, expectedDiffId: b.diffId } })), stacked, { rootless: false });
    expect(summaries.map((s) => s.mode)).toEqual(['staged', 'staged']);
    expect(await snapshot(stacked)).toEqual(ours);
    expect(Object.keys(ours).length).toBeGreaterThan(500);
    expect(ours['usr/d2/f2']).toMatchObject({ mode: 0o600, uid: 7, gid: 8 });
    expect(ours['new/d0/f0']).toMatchObject({ mode: 0o2755, gid: 5 });
    expect(ours['usr/d3/f3']).toBeUndefined();
    expect(ours['swap']).toMatchObject({ type: 'file' });
    expect(await readFile(join(rootfs, 'new/d1/f1'), 'utf8')).toBe('the same path again: the later one wins');
    // Times: of files written by the workers, redone on the main thread, and of their directories.
    expect((await lstat(join(rootfs, 'usr/d5/f5'))).mtimeMs).toBe(T(3005).getTime());
    expect((await lstat(join(rootfs, 'usr/d4/f4'))).mtimeMs).toBe(T(5002).getTime());
    expect((await lstat(join(rootfs, 'new/d3'))).mtimeMs).toBe(T(2003).getTime());
  });

  itNeeds({ root: true })('chown files queued before their directory turns setgid', async () => {
    const entries: FixtureEntry[] = [
      { name: 'g/', mode: 0o755 },
      ...Array.from({ length: 200 }, (_, i) => ({ name: `g/f${i}`, content: `${i}` })),
      { name: 'g/', mode: 0o2755, gid: 50 },
      ...Array.from({ length: 50 }, (_, i) => ({ name: `g/later${i}`, content: `${i}` })),
    ];
    const blob = join(dir, 'blob');
    await writeFile(blob, gzip(await tarOf(entries)));
    await unpackLayer(blob, join(dir, 'g-rootfs'), { rootless: false });
    const tree = await snapshot(join(dir, 'g-rootfs'));
    expect(tree['g']).toMatchObject({ mode: 0o2755, gid: 50 });
    const gids = new Set(Object.entries(tree).filter(([path]) => path.startsWith('g/')).map(([, node]) => node.gid));
    expect(gids).toEqual(new Set([0]));
  });

  it('keeps modes and mtimes rootless', async () => {
    const blob = join(dir, 'blob');
    await writeFile(blob, gzip(await tarOf([...files('a', 300, 6, { mode: 0o444 }), { name: 'a/d1/', mode: 0o555, mtime: T(7000) }])));
    const rootfs = join(dir, 'rootfs');
    const summary = await unpackLayer(blob, rootfs, { rootless: true });
    expect(summary.entries).toBe(308);
    expect((await readdir(join(rootfs, 'a/d1'))).length).toBe(50);
    const stat = await lstat(join(rootfs, 'a/d1/f7'));
    expect([stat.mode & 0o7777, stat.mtimeMs]).toEqual([0o444, T(3007).getTime()]);
    expect(await readFile(join(rootfs, 'a/d1/f7'), 'utf8')).toBe('a 7 '.repeat(8));
    expect(((await lstat(join(rootfs, 'a/d1'))).mode & 0o7777)).toBe(0o555);
    expect((await lstat(join(rootfs, 'a/d1'))).mtimeMs).toBe(T(7000).getTime());
  });
});

describe('layers unpacked on worker threads fail cleanly', () => {
  const many = files('x', 300, 6);

  it('leave nothing behind when an entry after hundreds of queued files is malicious', async () => {
    const blob = join(dir, 'blob');
    await writeFile(blob, gzip(await tarOf([...many, { name: 'opt/big.bin', content: big }, { name: 'x/../../evil', content: 'out' }])));
    await mkdir(join(dir, 'out'));
    await expect(unpackLayer(blob, join(dir, 'out', 'rootfs'), { rootless: true })).rejects.toMatchObject({
      code: 'ELAYER_PATH',
      message: expect.stringContaining('"x/../../evil"'),
    });
    expect(await readdir(join(dir, 'out'))).toEqual([]);

    const rootfs = join(dir, 'layered');
    const good = join(dir, 'good');
    await writeFile(good, gzip(await tarOf(files('x', 100, 6))));
    await unpackLayer(good, rootfs, { rootless: true });
    const before = await snapshot(rootfs);
    await expect(unpackLayer(blob, rootfs, { rootless: true })).rejects.toMatchObject({ code: 'ELAYER_PATH' });
    expect(await snapshot(rootfs)).toEqual(before);
  });

  it('name a truncated, corrupt or mismatched blob read on the worker, and leave nothing behind', async () => {
    const bytes = gzip(await tarOf([...many, { name: 'opt/big.bin', content: big }, { name: 'z', content: 'last' }]));
    expect(bytes.length).toBeGreaterThanOrEqual(WORKER_BLOB_MIN);
    const out = join(dir, 'out');
    await mkdir(out);
    const blob = join(dir, 'blob');

    await writeFile(blob, bytes.subarray(0, bytes.length - 20));
    await expect(unpackLayer(blob, join(out, 'r'), { rootless: true })).rejects.toMatchObject({ code: 'ELAYER_TRUNCATED', message: expect.stringMatching(/gzip stream of layer .* is truncated/) });

    const corrupt = Buffer.from(bytes);
    corrupt.fill(0x55, corrupt.length - 5000, corrupt.length - 4000);
    await writeFile(blob, corrupt);
    await expect(unpackLayer(blob, join(out, 'r'), { rootless: true })).rejects.toMatchObject({ code: 'ELAYER_COMPRESSION' });

    await writeFile(blob, bytes);
    const wrong = sha256(Buffer.from('other'));
    await expect(unpackLayer(blob, join(out, 'r'), { rootless: true, expectedDiffId: wrong })).rejects.toMatchObject({
      code: 'ELAYER_DIGEST',
      message: expect.stringContaining(`expected ${wrong}`),
    });
    expect(await readdir(out)).toEqual([]);

    // And the same blob, intact, unpacks.
    const summary = await unpackLayer(blob, join(out, 'r'), { rootless: true, expectedDigest: sha256(bytes) });
    expect(summary).toMatchObject({ compression: 'gzip', blobBytes: bytes.length, digest: sha256(bytes) });
    expect(await readFile(join(out, 'r', 'z'), 'utf8')).toBe('last');
  });

  it('report a blob file that is missing', async () => {
    await expect(unpackLayer(join(dir, 'nope'), join(dir, 'r'))).rejects.toMatchObject({ code: 'ELAYER_READ', message: expect.stringContaining('ENOENT') });
    expect(await readdir(dir)).toEqual([]);
  });
});
