// Real files in a temp dir, each run in a fresh Node process, as the entry scripts run: V8 keeps what it
// compiled in its own in-process cache, which would hide whether the cached data was read.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { itNeeds } from '../../test/support/requirements.js';

const moduleFile = fileURLToPath(new URL('./index.cjs', import.meta.url));

/** Runs `bundle` through runCached in a fresh Node, then saveCaches(); what it exported, and the handle. */
function runChild(bundle: string, cacheDir: string, prefix = 'bundle-', wrap: string[] = []) {
  const code = `
    const { runCached, saveCaches } = require(${JSON.stringify(moduleFile)});
    const mod = { exports: {} };
    const handle = runCached(mod, ${JSON.stringify(bundle)}, { cacheDir: ${JSON.stringify(cacheDir)}, prefix: ${JSON.stringify(prefix)} });
    saveCaches();
    process.stdout.write(JSON.stringify({ ...handle, value: mod.exports.value(), dir: mod.exports.dir }));`;
  const [command, ...args] = [...wrap, process.execPath, '-e', code];
  const result = spawnSync(command!, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`child exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as { cacheFile: string; status: string; value: number; dir: string };
}

/** A bundle big enough for V8 to bother (a few hundred functions), exporting value() = n. */
function writeBundle(file: string, n: number): void {
  const fns = Array.from({ length: 300 }, (_, i) => `function f${i}(x) { return x + ${i}; }`).join('\n');
  writeFileSync(file, `${fns}\nexports.value = () => f0(${n});\nexports.dir = __dirname;\n`);
}

let dir: string;
let bundle: string;
let cacheDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
  bundle = join(dir, 'bundle.cjs');
  cacheDir = join(dir, 'v8-cache');
  writeBundle(bundle, 1);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('runCached', () => {
  it('writes a cache on the first run and reads it, not rejected, on the second', () => {
    const first = runChild(bundle, cacheDir);
    expect(first).toMatchObject({ status: 'missing', value: 1, dir });
    const id = statSync(bundle);
    expect(first.cacheFile).toBe(join(cacheDir, `bundle-${id.size}-${Math.round(id.mtimeMs)}-${id.ino}.bin`));
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(first.cacheFile).mode & 0o777).toBe(0o600);
    expect(readdirSync(cacheDir)).toEqual([`bundle-${id.size}-${Math.round(id.mtimeMs)}-${id.ino}.bin`]);
    expect(runChild(bundle, cacheDir)).toMatchObject({ status: 'read', value: 1 });
  });

  it('rewrites a cache V8 rejects', () => {
    const { cacheFile } = runChild(bundle, cacheDir);
    writeFileSync(cacheFile, Buffer.alloc(4096, 0x5a), { mode: 0o600 });
    expect(runChild(bundle, cacheDir).status).toBe('rejected');
    expect(runChild(bundle, cacheDir).status).toBe('read');
  });

  it('ignores a cache file that others can write, and replaces it', () => {
    const { cacheFile } = runChild(bundle, cacheDir);
    chmodSync(cacheFile, 0o620);
    expect(runChild(bundle, cacheDir).status).toBe('missing');
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(runChild(bundle, cacheDir).status).toBe('read');
  });

  it('neither reads nor writes in a cache directory that others can write', () => {
    const { cacheFile } = runChild(bundle, cacheDir);
    chmodSync(cacheDir, 0o777);
    rmSync(cacheFile);
    expect(runChild(bundle, cacheDir).status).toBe('missing');
    expect(existsSync(cacheFile)).toBe(false);
  });

  it('ignores the cache of a bundle that others can write', () => {
    runChild(bundle, cacheDir);
    chmodSync(bundle, 0o666);
    expect(runChild(bundle, cacheDir).status).toBe('missing');
  });

  itNeeds({ root: true })('ignores a cache file, a cache directory or a bundle owned by another user', () => {
    const { cacheFile } = runChild(bundle, cacheDir);
    for (const path of [cacheFile, cacheDir, bundle]) {
      chownSync(path, 65534, 65534);
      expect(runChild(bundle, cacheDir).status, path).toBe('missing');
      chownSync(path, 0, 0);
    }
  });

  it('gives a changed bundle a new cache file and removes the old one, but not other prefixes', () => {
    const { cacheFile: old } = runChild(bundle, cacheDir);
    const other = runChild(bundle, cacheDir, 'other-').cacheFile;
    writeBundle(bundle, 22); // another size
    const grown = runChild(bundle, cacheDir);
    expect(grown).toMatchObject({ status: 'missing', value: 22 });
    expect(grown.cacheFile).not.toBe(old);
    expect(readdirSync(cacheDir).sort()).toEqual([grown.cacheFile, other].map((f) => f.slice(cacheDir.length + 1)).sort());
    const later = new Date(statSync(bundle).mtimeMs + 5000);
    writeBundle(bundle, 33); // the same size, a new mtime
    utimesSync(bundle, later, later);
    const touched = runChild(bundle, cacheDir);
    expect(touched).toMatchObject({ status: 'missing', value: 33 });
    expect(existsSync(grown.cacheFile)).toBe(false);
    expect(runChild(bundle, cacheDir)).toMatchObject({ status: 'read', value: 33 });
  });

  it('runs without a cache where the cache directory cannot be made', () => {
    writeFileSync(join(dir, 'file'), '');
    const result = runChild(bundle, join(dir, 'file', 'v8-cache'));
    expect(result).toMatchObject({ status: 'missing', value: 1 });
  });

  itNeeds({ root: true, tools: ['unshare', 'mount'] })('runs without a cache from a read-only install, and leaves nothing behind', () => {
    runChild(bundle, cacheDir, 'old-');
    const files = readdirSync(cacheDir);
    const readOnly = (inner: string[]) => ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount --bind -o ro "$0" "$0" && exec "$@"`, dir, ...inner];
    // the cache directory there, read-only
    expect(runChild(bundle, cacheDir, 'bundle-', readOnly([]))).toMatchObject({ status: 'missing', value: 1 });
    expect(readdirSync(cacheDir)).toEqual(files);
    // and missing
    rmSync(cacheDir, { recursive: true });
    expect(runChild(bundle, cacheDir, 'bundle-', readOnly([]))).toMatchObject({ status: 'missing', value: 1 });
    expect(existsSync(cacheDir)).toBe(false);
    mkdirSync(cacheDir);
  });
});
