#!/usr/bin/env node
// @isola/image side by side with the Debian tools, in one run, interleaved (machine noise hits all
// alike), medians and ratios (issue #4 targets):
//   unpack: unpackLayers (image to rootfs) vs `umoci unpack`                         target >= 2x faster
//           (also against `umoci raw unpack`, which writes only the rootfs: `umoci unpack` also
//           writes an mtree manifest with a sha256 of every file, work the isola cases do not do;
//           and isola in a process of its own, unpack-image.mjs, to count Node's start as umoci's)
//   pull:   pullImage from docker-registry vs `skopeo copy docker://… oci:DIR`        target >= 1x
// on a generated 4-layer image: thousands of small files, a few large ones, whiteouts.
// Needs root (umoci unpack without --rootless), docker-registry, skopeo and umoci; run after the build.
// Besides wall time it prints CPU time (user+sys: this process's threads for the library cases, the
// waited-for child's for the commands), which a loaded machine distorts less.
// Fairness on this host: / is ext4 without a journal, where creating an inode skips every inode
// freed in the last 300 s whose table block is still dirty (fs/ext4/ialloc.c recently_deleted), so
// whoever unpacks right after a big rm pays for it. Rounds are not deleted until the end, and the
// order of the tools alternates from round to round, and every case starts after a sync (not
// timed). IMAGE_BENCH_DIR puts the work elsewhere
// (a tmpfs, to compare the tools without the filesystem).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { warmPageCache } from '../support/page-cache.mjs';
import { ImageStore, TarWriter, loadImage, pullImage, pushImage, unpackLayers } from '@isola/image';

// The Node processes this starts run without NODE_EXTRA_CA_CERTS, as on a machine that does not set it:
// Node 20 parses that certificate bundle at start-up (~60 ms of CPU here), before any of isola's code runs.
delete process.env.NODE_EXTRA_CA_CERTS;

const run = promisify(execFile);
const rounds = Number(process.env.ROUNDS ?? 5);
const isolaBin = fileURLToPath(new URL('../../apps/cli/bin/isola.cjs', import.meta.url));
const unpackImage = fileURLToPath(new URL('./unpack-image.mjs', import.meta.url));
const work = await mkdtemp(join(process.env.IMAGE_BENCH_DIR ?? tmpdir(), 'isola-bench-image-'));

// --- the test image ----------------------------------------------------------------------------

function text(n, seed) {
  // Compressible like real files (text, code), not constant.
  const words = ['alpha', 'beta', 'gamma', 'delta', 'lib', 'usr', 'share', 'config', String(seed)];
  let out = '';
  while (out.length < n) out += `${words[(out.length * 7 + seed) % words.length]} `;
  return Buffer.from(out.slice(0, n));
}

async function layer(files) {
  const out = new PassThrough();
  const chunks = [];
  out.on('data', (c) => chunks.push(c));
  const tar = new TarWriter(out);
  const dirs = new Set();
  for (const [name, content] of files) {
    const parts = name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        await tar.directory(d);
      }
    }
    await tar.file(name, content);
  }
  await tar.finish();
  out.end();
  return gzipSync(Buffer.concat(chunks));
}

async function buildLayout(dir) {
  const small = (prefix, count, seed) => Array.from({ length: count }, (_, i) => [`${prefix}/d${i % 50}/f${i}.txt`, text(500 + ((i * 37) % 7000), seed + i)]);
  const big = Array.from({ length: 4 }, (_, i) => [`opt/big/blob${i}.bin`, Buffer.concat([randomBytes(8 << 20), text(8 << 20, i)])]);
  const layers = [
    await layer(small('usr/lib', 5000, 1)),
    await layer(small('usr/share', 3000, 2)),
    await layer(big),
    await layer([...small('etc', 1000, 3), ['usr/lib/d1/.wh.f1.txt', Buffer.alloc(0)], ['usr/share/d2/.wh..wh..opq', Buffer.alloc(0)]]),
  ];
  const { createHash } = await import('node:crypto');
  const { gunzipSync } = await import('node:zlib');
  const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(gunzipSync(l))) } }));
  const desc = (mediaType, b) => ({ mediaType, digest: sha(b), size: b.length });
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: desc('application/vnd.oci.image.config.v1+json', config), layers: layers.map((l) => desc('application/vnd.oci.image.layer.v1.tar+gzip', l)) }));
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [config, manifest, ...layers]) await writeFile(join(dir, 'blobs', 'sha256', sha(b).slice(7)), b);
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...desc('application/vnd.oci.image.manifest.v1+json', manifest), annotations: { 'org.opencontainers.image.ref.name': 'v1', 'io.containerd.image.name': 'bench/app:v1' } }] }));
  return { files: 5000 + 3000 + 4 + 1000, bytes: layers.reduce((n, l) => n + l.length, 0) };
}

// --- timing ------------------------------------------------------------------------------------

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Waited-for children's user+sys ticks (fields 16 and 17 of /proc/self/stat), in ms.
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}
const cpu = {};
async function time(fn, name) {
  const t0 = process.hrtime.bigint();
  const own = process.cpuUsage();
  const children = childrenCpuMs();
  await fn();
  const ownMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(own));
  (cpu[name] ??= []).push(ownMs + childrenCpuMs() - children);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRegistry() {
  const dir = join(work, 'registry');
  const port = await freePort();
  await mkdir(dir);
  await writeFile(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) return { domain: `127.0.0.1:${port}`, child };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('docker-registry did not start');
}

/** Medians of wall and CPU time, each with its ratio to every base (base / case: > 1 is faster). */
function report(title, rows, bases, target) {
  console.log(`\n${title}`);
  const ratios = (label) => bases.map((_, i) => `${label} r${i + 1}`.padStart(9)).join('');
  console.log('case'.padEnd(48) + 'wall ms'.padStart(9) + ratios('wall') + 'cpu ms'.padStart(9) + ratios('cpu'));
  for (const [name, xs] of Object.entries(rows)) {
    const [wall, c] = [median(xs), median(cpu[name])];
    const walls = bases.map((base) => `${(median(rows[base]) / wall).toFixed(2)}x`.padStart(9)).join('');
    const cpus = bases.map((base) => `${(median(cpu[base]) / c).toFixed(2)}x`.padStart(9)).join('');
    console.log(name.padEnd(48) + wall.toFixed(0).padStart(9) + walls + c.toFixed(0).padStart(9) + cpus);
  }
  console.log(`${bases.map((base, i) => `r${i + 1} = ${base} / case`).join('; ')}\ntarget: ${target}`);
}

try {
  const layout = join(work, 'layout');
  const shape = await buildLayout(layout);
  const store = await ImageStore.open({ root: join(work, 'store') });
  await loadImage(store, layout);
  const { record } = await store.resolve('bench/app:v1');
  console.log(`image-bench: ${rounds} interleaved rounds; image: 4 gzip layers, ${shape.files} files (4 of 16 MiB), ${(shape.bytes / 1e6).toFixed(1)} MB compressed`);

  const unpack = {
    'umoci unpack': [],
    'umoci raw unpack': [],
    'isola unpackLayers (one rootfs)': [],
    'isola unpack-image.mjs (own node process)': [],
    'isola store layers (overlay dirs per chain ID)': [],
  };
  const pull = { 'skopeo copy docker:// oci:': [], 'isola pullImage (library)': [], 'isola pull (CLI process)': [] };
  const registry = await startRegistry();
  try {
    await pushImage(store, 'bench/app:v1', `${registry.domain}/bench/app:v1`);
    const measure = async (rows, name, fn) => {
      // Nobody fsyncs, so without this the previous case's dirty pages (100+ MB, 9000 inodes) are
      // written back while the next case runs, and bill it for the kernel's flusher threads.
      await run('sync');
      warmPageCache(work, 512); // untimed, for every tool alike (bench/support/page-cache.mjs says why)
      rows[name].push(await time(fn, name));
    };
    for (let round = 0; round < rounds; round++) {
      const r = join(work, `r${round}`);
      await mkdir(r);
      const unpackCases = [
        () => measure(unpack, 'umoci unpack', () => run('umoci', ['unpack', '--image', `${layout}:v1`, join(r, 'bundle')])),
        () => measure(unpack, 'umoci raw unpack', () => run('umoci', ['raw', 'unpack', '--image', `${layout}:v1`, join(r, 'umoci-rootfs')])),
        () =>
          measure(unpack, 'isola unpackLayers (one rootfs)', () =>
            unpackLayers(
              record.layers.map((l, i) => ({ source: store.blobs.path(l.digest), options: { mediaType: l.mediaType, expectedDigest: l.digest, expectedDiffId: record.diffIds[i] } })),
              join(r, 'rootfs'),
              { rootless: false },
            ),
          ),
        () => measure(unpack, 'isola unpack-image.mjs (own node process)', () => run(process.execPath, [unpackImage, `${layout}:v1`, join(r, 'process-rootfs')])),
        async () => {
          const layerStore = await ImageStore.open({ root: join(r, 'layer-store') });
          await loadImage(layerStore, layout);
          await measure(unpack, 'isola store layers (overlay dirs per chain ID)', () => layerStore.layerStack(record));
        },
      ];
      const pullCases = [
        () => measure(pull, 'skopeo copy docker:// oci:', () => run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${registry.domain}/bench/app:v1`, `oci:${join(r, 'skopeo')}:v1`])),
        async () => {
          const fresh = await ImageStore.open({ root: join(r, 'pull-store') });
          await measure(pull, 'isola pullImage (library)', () => pullImage(fresh, `${registry.domain}/bench/app:v1`));
        },
        () => measure(pull, 'isola pull (CLI process)', () => run(process.execPath, [isolaBin, 'pull', `${registry.domain}/bench/app:v1`], { env: { ...process.env, ISOLA_ROOT: join(r, 'cli-store') } })),
      ];
      // Odd rounds run the cases in reverse order.
      for (const c of round % 2 === 0 ? unpackCases : [...unpackCases].reverse()) await c();
      for (const c of round % 2 === 0 ? pullCases : [...pullCases].reverse()) await c();
    }
  } finally {
    registry.child.kill('SIGTERM');
  }
  report('unpack (all layers to a rootfs)', unpack, ['umoci unpack', 'umoci raw unpack'], 'isola >= 2x faster than umoci unpack');
  report('pull from docker-registry on 127.0.0.1', pull, ['skopeo copy docker:// oci:'], 'isola >= 1x skopeo');
} finally {
  await rm(work, { recursive: true, force: true });
}
