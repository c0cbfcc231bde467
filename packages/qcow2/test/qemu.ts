// Test fixtures for this package: a temp directory per test file, qemu-img as the oracle, and disk
// contents with the mix of data and zero runs that exercises every mapping path.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix: string): { dir: string; path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `isola-qcow2-${prefix}-`));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs qemu-img and returns its exit status and output instead of throwing. */
export function qemuImgStatus(...args: string[]): { status: number; output: string } {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** `size` bytes of random data with zeroed runs (some cluster-aligned, some not) and a few tiny islands. */
export function pattern(size: number, seed = 1): Buffer {
  const data = randomBytes(size);
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  for (let i = 0; i < 12; i++) {
    const start = next(size);
    data.fill(0, start, Math.min(size, start + next(size / 4)));
  }
  for (let i = 0; i < 6; i++) data[next(size)] = 0xa5;
  return data;
}

export function writeRaw(path: string, data: Uint8Array): void {
  writeFileSync(path, data);
}

/** A sparse file of `size` bytes with `extents` ([offset, length]) of non-zero data written into it. */
export function sparseFile(path: string, size: number, extents: [number, number][]): void {
  closeSync(openSync(path, 'w'));
  truncateSync(path, size);
  const fd = openSync(path, 'r+');
  try {
    for (const [offset, length] of extents) writeSync(fd, Buffer.alloc(length, 0x5a), 0, length, offset);
  } finally {
    closeSync(fd);
  }
}
