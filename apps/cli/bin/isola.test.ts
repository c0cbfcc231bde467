// bin/isola.cjs's V8 code cache, on a private copy of the built CLI (bin, dist, package.json; its
// node_modules is the workspace's): what it writes, and that a cache it did not write or that anyone
// else could have written is never run.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const app = dirname(dirname(fileURLToPath(import.meta.url)));
const built = existsSync(join(app, 'dist', 'isola.cjs'));
let copy: string;
let cacheDir: string;

function isola(...args: string[]) {
  const r = spawnSync(process.execPath, [join(copy, 'apps/cli/bin/isola.cjs'), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const caches = (command: string) => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((n) => n.startsWith(`isola-${command}-`)) : []);

describe.runIf(built)('bin/isola.cjs code cache', () => {
  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'isola-bin-'));
    const target = join(copy, 'apps/cli');
    for (const part of ['bin', 'package.json']) cpSync(join(app, part), join(target, part), { recursive: true });
    cpSync(join(app, 'dist'), join(target, 'dist'), { recursive: true, filter: (src) => !src.includes('v8-cache') });
    symlinkSync(join(app, '../../node_modules'), join(copy, 'node_modules'));
    cacheDir = join(target, 'dist', 'v8-cache');
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('writes one private cache per command after it ran, and reuses it with the same output', () => {
    const first = isola('--help');
    expect(first.status).toBe(0);
    expect(caches('none')).toHaveLength(1);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const file = join(cacheDir, caches('none')[0]!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = statSync(file).mtimeMs;
    expect(isola('--help')).toEqual(first);
    expect(statSync(file).mtimeMs).toBe(written); // accepted, so not rewritten
  });

  it('leaves no cache for a mistyped command', () => {
    const r = isola('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('Error: unknown command "frobnicate"\nSee \'isola --help\'.\n');
    expect(caches('frobnicate')).toEqual([]);
  });

  it('ignores a cache anyone else could have written, and replaces one V8 rejects', () => {
    isola('ps', '--help');
    const [name] = caches('ps');
    const file = join(cacheDir, name!);
    // Garbage V8 would reject anyway; what matters is that it is never even read while world-writable.
    writeFileSync(file, Buffer.alloc(4096, 0x41));
    chmodSync(file, 0o666);
    const r = isola('ps', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('List containers');
    expect(statSync(file).mode & 0o777).toBe(0o600); // written anew by this user
    writeFileSync(file, Buffer.alloc(4096, 0x41), { mode: 0o600 });
    expect(isola('ps', '--help').stdout).toContain('List containers');
    expect(statSync(file).size).toBeGreaterThan(4096); // rejected, so rewritten
  });

  it('runs without a cache where its directory is writable by others', () => {
    rmSync(cacheDir, { recursive: true, force: true });
    isola('--help');
    chmodSync(cacheDir, 0o777);
    const [name] = caches('none');
    writeFileSync(join(cacheDir, name!), Buffer.alloc(16, 0x41), { mode: 0o600 });
    const r = isola('--help');
    expect(r.status).toBe(0);
    expect(statSync(join(cacheDir, name!)).size).toBe(16); // neither read nor replaced
    chmodSync(cacheDir, 0o700);
  });
});
