// Small filesystem helpers the store shares: crash-safe writes (temp file, fsync, rename, then fsync
// of the directory so the new name survives a power cut), and ENOENT as "absent".
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../errors.js';

export function tempName(dir: string, purpose: string): string {
  return join(dir, `${purpose}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `bytes` to `path` so that a reader sees either the old file or the complete new one. With
 * `durable` (the default) the file and its name also survive a power cut; without, it is only atomic
 * for other processes, for files a crash makes worthless anyway (a process's own lease).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string, options: { durable?: boolean } = {}): Promise<void> {
  const durable = options.durable ?? true;
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(bytes);
    if (durable) await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, path);
  if (durable) await fsyncDir(dirname(path));
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}
