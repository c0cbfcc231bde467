// Pull and push against Debian's docker-registry on 127.0.0.1 (and nothing else): basic auth,
// bearer tokens, chunked uploads, multi-platform indexes, resumed and concurrent downloads.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { missing } from '../../../../test/support/requirements.js';
import { tempDir } from '../layer-builder.test-support.js';
import { addToStore, buildImage, type BuiltImage } from '../store/image-builder.test-support.js';
import { MediaType } from '../store/oci.js';
import { ImageStore } from '../store/store.js';
import { parseChallenge } from './auth.js';
import { RegistryClient } from './client.js';
import { ProgressBars, type ProgressEvent } from './progress.js';
import { pullImage } from './pull.js';
import { pushImage } from './push.js';
import { startProxy, startRegistry, type TestRegistry } from './registry.test-support.js';

const run = promisify(execFile);
const lacking = missing({ tools: ['docker-registry', 'htpasswd'] });
const suite = lacking.length === 0 || process.env.CI === 'true' ? describe : describe.skip;

let dir: string;
let cleanup: () => Promise<void>;
let store: ImageStore;
let image: BuiltImage;
const creds = { username: 'isola', password: 's3cret' };

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = await ImageStore.open({ root: join(dir, 'local') });
  image = await buildImage([
    [{ name: 'bin/' }, { name: 'bin/sh', content: 'shell' }],
    // Incompressible, bigger than the chunk size used below: pushed in several PATCHes.
    [{ name: 'data/' }, { name: 'data/big', content: randomBytes(300_000) }],
    [{ name: 'etc/' }, { name: 'etc/hostname', content: 'isola' }],
  ]);
  await addToStore(store, image, ['app:v1']);
});
afterEach(() => cleanup());

describe('auth challenges', () => {
  it('parses bearer and basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
    });
    expect(parseChallenge('Basic realm="basic-realm"')).toEqual({ scheme: 'basic', params: { realm: 'basic-realm' } });
  });

  it('draws progress bars on a terminal, one line per finished blob elsewhere', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const plain = new ProgressBars(out, false);
    plain.listener({ kind: 'start', digest: `sha256:${'a'.repeat(64)}`, total: 10, what: 'layer' });
    plain.listener({ kind: 'bytes', digest: `sha256:${'a'.repeat(64)}`, done: 5 });
    plain.listener({ kind: 'done', digest: `sha256:${'a'.repeat(64)}`, status: 'Pull complete' });
    expect(text).toBe('aaaaaaaaaaaa: Pull complete\n');
    text = '';
    const tty = new ProgressBars(out, true);
    tty.listener({ kind: 'start', digest: `sha256:${'b'.repeat(64)}`, total: 2000, what: 'layer' });
    expect(text).toContain('bbbbbbbbbbbb: [');
    expect(text).toContain('0B/2.00kB');
  });
});

suite(`registry (docker-registry on 127.0.0.1)${lacking.length ? ` (needs ${lacking.join(', ')})` : ''}`, () => {
  let basic: TestRegistry;
  let open: TestRegistry;
  beforeAll(async () => {
    [basic, open] = await Promise.all([startRegistry({ user: creds.username, password: creds.password }), startRegistry()]);
  }, 30_000);
  afterAll(async () => {
    await basic?.stop();
    await open?.stop();
  });

  it('pushes with basic auth in chunks, and pulls the same image back', async () => {
    const name = `${basic.domain}/team/app:v1`;
    await expect(pushImage(store, 'app:v1', name)).rejects.toMatchObject({ code: 'EREGISTRY_AUTH', message: expect.stringContaining('needs a user name and password') });
    await expect(pushImage(store, 'app:v1', name, { credentials: { ...creds, password: 'wrong' } })).rejects.toMatchObject({
      code: 'EREGISTRY_AUTH',
      message: expect.stringMatching(/\(as isola\): HTTP 401/),
    });
    const pushed = await pushImage(store, 'app:v1', name, { credentials: creds, chunkSize: 64 * 1024 });
    expect(pushed).toMatchObject({ digest: image.manifest.digest, uploaded: 4, skipped: 0 });
    expect(await pushImage(store, 'app:v1', name, { credentials: creds })).toMatchObject({ uploaded: 0, skipped: 4 });

    // An independent reader agrees on what the registry now holds.
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', `${creds.username}:${creds.password}`, `docker://${name}`]);
    expect(JSON.parse(stdout)).toMatchObject({ Digest: image.manifest.digest, Layers: image.layers.map((l) => l.digest) });

    const other = await ImageStore.open({ root: join(dir, 'other') });
    const events: ProgressEvent[] = [];
    const pulled = await pullImage(other, name, { credentials: creds, progress: (e) => events.push(e) });
    expect(pulled).toMatchObject({ name, downloaded: 4, skipped: 0 });
    expect(pulled.record).toMatchObject({ digest: image.manifest.digest, config: image.config.digest, repoDigests: [`${basic.domain}/team/app@${image.manifest.digest}`] });
    expect(events.filter((e) => e.kind === 'done')).toHaveLength(4);
    expect(await readdir(other.blobs.tmp)).toEqual([]);
    expect(await pullImage(other, name, { credentials: creds })).toMatchObject({ downloaded: 0, skipped: 4 });
    await expect(pullImage(other, `${basic.domain}/team/app:nope`, { credentials: creds })).rejects.toMatchObject({
      code: 'EREGISTRY_HTTP',
      message: expect.stringContaining(`GET http://${basic.domain}/v2/team/app/manifests/nope: HTTP 404 MANIFEST_UNKNOWN`),
    });
  });

  it('resolves linux/amd64 from a multi-platform index', async () => {
    const arm = await buildImage([[{ name: 'arm', content: 'arm64 only' }]], { architecture: 'arm64', label: 'arm' });
    await addToStore(store, arm, ['app:arm']);
    await pushImage(store, 'app:v1', `${open.domain}/multi:amd64`);
    await pushImage(store, 'app:arm', `${open.domain}/multi:arm64`);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.index,
        manifests: [
          { mediaType: MediaType.manifest, digest: arm.manifest.digest, size: arm.manifest.size, platform: { os: 'linux', architecture: 'arm64' } },
          { mediaType: MediaType.manifest, digest: image.manifest.digest, size: image.manifest.size, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
    );
    await new RegistryClient(open.domain).request('/v2/multi/manifests/latest', { method: 'PUT', body: index, headers: { 'content-type': MediaType.index }, scope: 'repository:multi:push' });
    const other = await ImageStore.open({ root: join(dir, 'other') });
    const pulled = await pullImage(other, `${open.domain}/multi`, { platform: { os: 'linux', architecture: 'amd64' } });
    expect(pulled.record.digest).toBe(image.manifest.digest);
    expect(pulled.record.index).toMatch(/^sha256:/);
    const armPull = await pullImage(other, `${open.domain}/multi`, { platform: { os: 'linux', architecture: 'arm64' } });
    expect(armPull.record.digest).toBe(arm.manifest.digest);
    await expect(pullImage(other, `${open.domain}/multi`, { platform: { os: 'linux', architecture: 'riscv64' } })).rejects.toMatchObject({ code: 'EIMAGE_PLATFORM' });
  });

  it('gets a bearer token, resumes cut downloads with Range, and downloads layers concurrently', async () => {
    await pushImage(store, 'app:v1', `${open.domain}/resume:v1`);
    const proxy = await startProxy(open.domain, { token: 'tok-123', cutAfter: 1000 });
    try {
      const other = await ImageStore.open({ root: join(dir, 'other') });
      let inFlight = 0;
      let maxInFlight = 0;
      const pulled = await pullImage(other, `${proxy.domain}/resume:v1`, {
        progress: (e) => {
          if (e.kind === 'start' && e.what !== 'exists') maxInFlight = Math.max(maxInFlight, ++inFlight);
          if (e.kind === 'done') inFlight--;
        },
      });
      expect(pulled.record.digest).toBe(image.manifest.digest);
      expect(maxInFlight).toBeGreaterThan(1);
      const big = image.layers[1];
      const gets = proxy.seen.filter((s) => s.method === 'GET' && s.path.endsWith(big.digest));
      expect(gets.map((g) => g.range)).toEqual([undefined, 'bytes=1000-']);
      expect(proxy.seen.some((s) => s.path.startsWith('/token'))).toBe(true);
      expect(proxy.seen.filter((s) => s.path.startsWith('/v2/resume')).every((s) => s.auth === 'Bearer tok-123' || s.auth === undefined)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });
  it('refuses an artifact, a layer of an unknown media type and a platform the index lacks, keeping nothing', async () => {
    await pushImage(store, 'app:v1', `${open.domain}/art:base`);
    const put = async (tag: string, doc: unknown) => {
      const body = Buffer.from(JSON.stringify(doc));
      await new RegistryClient(open.domain).request(`/v2/art/manifests/${tag}`, { method: 'PUT', body, headers: { 'content-type': (doc as { mediaType: string }).mediaType }, scope: 'repository:art:push' });
    };
    const config = { mediaType: MediaType.config, digest: image.config.digest, size: image.config.size };
    const layers = image.layers.map((l) => ({ mediaType: MediaType.layerGzip, digest: l.digest, size: l.size }));
    await put('helm', { schemaVersion: 2, mediaType: MediaType.manifest, config: { ...config, mediaType: 'application/vnd.cncf.helm.config.v1+json' }, layers });
    await put('odd', { schemaVersion: 2, mediaType: MediaType.manifest, config, layers: [{ ...layers[0], mediaType: 'application/vnd.example.layer' }] });
    const arm = { mediaType: MediaType.manifest, digest: image.manifest.digest, size: image.manifest.size, platform: { os: 'linux', architecture: 'arm64' } };
    await put('armonly', { schemaVersion: 2, mediaType: MediaType.index, manifests: [arm] });
    const other = await ImageStore.open({ root: join(dir, 'other') });
    // Garbage from before (no image uses it) is not the failed pulls' to collect: only what they stored goes.
    const unrelated = await other.blobs.put(Buffer.from('a blob no image refers to'), {}, async () => undefined);
    await expect(pullImage(other, `${open.domain}/art:helm`)).rejects.toMatchObject({
      code: 'EIMAGE_FORMAT',
      message: `${open.domain}/art:helm: not a container image: config media type "application/vnd.cncf.helm.config.v1+json" (an artifact?)`,
    });
    await expect(pullImage(other, `${open.domain}/art:odd`)).rejects.toMatchObject({ code: 'EIMAGE_FORMAT', message: expect.stringContaining('layers[0] has media type "application/vnd.example.layer", not a tar layer') });
    await expect(pullImage(other, `${open.domain}/art:armonly`)).rejects.toMatchObject({ code: 'EIMAGE_PLATFORM', message: expect.stringContaining('has no image for linux/amd64 (it has: linux/arm64)') });
    expect(await other.blobs.list()).toEqual([unrelated.digest]);
    expect(await readdir(other.blobs.tmp)).toEqual([]);
    expect(await readdir(other.leases.dir)).toEqual([]);
  });
});

