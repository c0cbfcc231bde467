// Crash safety: a child process does random allocating writes and is killed with SIGKILL at random
// moments. After every kill the image must pass qemu-img check with no corruption (leaks allowed),
// every write acknowledged before the kill must read back, and the one in flight may be half done.
// Lazy-refcount images are left dirty by a kill; they must be repaired by the next read-write open.
// ISOLA_LONG_TESTS=1 runs hundreds of kills instead of tens.
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { qemuImgStatus, tempDir } from '../../test/qemu.js';
import { fill } from '../../test/crash-fill.mjs';
import { openImage } from './open.js';

const tmp = tempDir('crash');
afterAll(() => tmp.remove());
const it = itNeeds({ tools: ['qemu-img'] });
const here = dirname(fileURLToPath(import.meta.url));
const writer = join(here, '../../test/crash-writer.mjs');
const bundle = tmp.path('dist/qcow2.mjs');
const LONG = process.env.ISOLA_LONG_TESTS === '1';

beforeAll(async () => {
  // The child runs the package's TypeScript sources as one bundled module (Node 20 cannot run .ts),
  // with the one @isola/wasm module it uses (not the x86 tables, which would slow every child's start);
  // the wasm loader finds build/<module>.wasm next to the bundle's directory.
  const wasm = join(here, '../../../wasm');
  await build({
    input: join(here, '../index.ts'),
    platform: 'node',
    logLevel: 'warn',
    resolve: { alias: { '@isola/wasm': join(wasm, 'src/qcow2/index.ts') } },
    // koffi (through @isola/sys) loads its native module from its own package, found in the node_modules
    // beside the bundle (a link to the repository's).
    external: ['koffi'],
    // One file: the package imports @isola/sys and @isola/wasm lazily (import()), which would otherwise become chunks.
    output: { file: bundle, format: 'esm', codeSplitting: false },
  });
  symlinkSync(join(wasm, 'build'), tmp.path('build'));
  symlinkSync(dirname(dirname(createRequire(import.meta.url).resolve('koffi'))), tmp.path('node_modules'));
});

interface Write { seq: number; offset: number; length: number; kind: 'data' | 'zero' }

/** Runs the writer until it has acknowledged a few writes plus a random delay, then kills it. */
function runAndKill(path: string, options: object, firstSeq: number, seed: number, delayMs: number): Promise<{ acked: Write[]; inFlight: Write[]; next: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, bundle, path, JSON.stringify(options), String(firstSeq), String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (timer === undefined && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited (${code}) before the kill: ${err}`));
      const begun = new Map<number, Write>();
      const acked: Write[] = [];
      let next = firstSeq;
      for (const line of out.split('\n')) {
        const [word, seq, offset, length, kind] = line.split(' ');
        if (word === 'begin') {
          begun.set(Number(seq), { seq: Number(seq), offset: Number(offset), length: Number(length), kind: kind as Write['kind'] });
          next = Number(seq) + 1;
        }
        if (word === 'ack') {
          acked.push(begun.get(Number(seq))!);
          begun.delete(Number(seq));
        }
      }
      resolve({ acked, inFlight: [...begun.values()], next });
    });
  });
}

function apply(model: Buffer, w: Write): void {
  if (w.kind === 'zero') model.fill(0, w.offset, w.offset + w.length);
  else fill(w.seq, w.length).copy(model, w.offset);
}

const configs = [
  { name: 'v3-4k', options: { size: 4 * 1024 * 1024, clusterSize: 4096 } },
  { name: 'v3-64k', options: { size: 16 * 1024 * 1024, clusterSize: 65536 } },
  { name: 'v2-512', options: { size: 1024 * 1024, clusterSize: 512, version: 2 } },
  { name: 'v3-512-r1', options: { size: 2 * 1024 * 1024, clusterSize: 512, refcountBits: 1 } },
  { name: 'v3-4k-lazy', options: { size: 4 * 1024 * 1024, clusterSize: 4096, lazyRefcounts: true } },
  { name: 'v3-4k-snapshots', options: { size: 4 * 1024 * 1024, clusterSize: 4096, snapshots: true } },
  { name: 'v3-64k-extended-l2', options: { size: 16 * 1024 * 1024, clusterSize: 65536, extendedL2: true } },
];

describe('crash safety under SIGKILL', () => {
  const kills = LONG ? 60 : 6;
  for (const config of configs) {
    it(`${config.name}: ${kills} kills, each image checks clean and keeps every acknowledged write`, async () => {
      const path = tmp.path(`${config.name}.qcow2`);
      const model = Buffer.alloc(config.options.size);
      let seq = 0;
      let totalAcked = 0;
      for (let k = 0; k < kills; k++) {
        const seed = k * 7919 + config.name.length;
        const { acked, inFlight, next } = await runAndKill(path, config.options, seq, seed, 30 + ((k * 37) % 150));
        // Writes of a round touch disjoint slices, so applying acknowledged ones in any order is exact.
        for (const w of acked) apply(model, w);
        totalAcked += acked.length;
        seq = next;
        if ((readFileSync(path)[79] & 1) !== 0) {
          // Left dirty (lazy refcounts, a snapshot operation): the next read-write open repairs what
          // the kill left, which qemu-img check alone would report as errors.
          expect(['lazyRefcounts', 'snapshots'].some((k) => k in config.options), `kill ${k}: dirty`).toBe(true);
          const repaired = await openImage(path);
          await repaired.close();
        }
        const check = qemuImgStatus('check', path);
        expect(check.output, `kill ${k}`).not.toMatch(/ERROR/);
        expect([0, 3], `kill ${k}: ${check.output}`).toContain(check.status);
        const image = await openImage(path, { readOnly: true });
        const disk = Buffer.alloc(image.size);
        await image.read(disk, 0);
        await image.close();
        for (const w of inFlight) {
          // A write in flight may have landed in part: accept old or new bytes there, then take the disk's.
          const after = Buffer.from(model);
          apply(after, w);
          for (let i = w.offset; i < w.offset + w.length; i++) {
            if (disk[i] !== model[i] && disk[i] !== after[i]) expect.fail(`kill ${k}: byte ${i} is neither old nor new`);
          }
          disk.copy(model, w.offset, w.offset, w.offset + w.length);
        }
        if (!disk.equals(model)) {
          const at = disk.findIndex((b, i) => b !== model[i]);
          const last = acked.filter((w) => w.offset <= at && at < w.offset + w.length).pop();
          if (process.env.ISOLA_CRASH_KEEP) copyFileSync(path, process.env.ISOLA_CRASH_KEEP);
          expect.fail(`kill ${k}: acknowledged data differs at byte ${at} (last acked write there: ${JSON.stringify(last)}, in flight: ${JSON.stringify(inFlight)}, acked this run: ${acked.length})`);
        }
      }
      expect(totalAcked).toBeGreaterThan(kills);
      if ('snapshots' in config.options) {
        const image = await openImage(path, { readOnly: true });
        const info = image.info();
        await image.close();
        expect(info.format === 'qcow2' && info.snapshots.length).toBeGreaterThan(0);
      }
    }, LONG ? 600_000 : 60_000);
  }
});
