// Checks of an image against an in-memory model of its disk, shared by the write, zero, resize and
// subcluster tests: isola reads the model back, qemu-img check finds nothing, and qemu-img compare
// finds the image equal to a raw file of the model.
import { expect } from 'vitest';
import type { Image } from '../src/image/image.js';
import { qemuImgStatus, writeRaw } from './qemu.js';

/** A deterministic generator, so a failing case can be replayed: next(n) is in [0, n). */
export function rng(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * n);
  };
}

/** isola reads the whole disk back as the model. */
export async function expectContent(image: Image, model: Buffer): Promise<void> {
  const buf = Buffer.alloc(model.length);
  await image.read(buf, 0);
  expect(buf.equals(model)).toBe(true);
}

/** qemu-img check finds no error or leak, and compare finds the qcow2 at `path` equal to `model` (written to `rawPath`). */
export function expectQemuAgrees(path: string, model: Buffer, rawPath: string): void {
  const check = qemuImgStatus('check', path);
  expect(check.output).not.toMatch(/ERROR|Leaked/);
  expect(check.status).toBe(0);
  writeRaw(rawPath, model);
  const compare = qemuImgStatus('compare', '-f', 'qcow2', '-F', 'raw', path, rawPath);
  expect(compare.output).toContain('Images are identical');
  expect(compare.status).toBe(0);
}
