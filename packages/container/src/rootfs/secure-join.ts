// Host-side path resolution inside a container's root filesystem: every symlink is resolved as if the
// rootfs were "/", so `..` and absolute links can never leave it (what securejoin does for runc).
// This only prepares mount points; the child still opens each target with openat2(RESOLVE_IN_ROOT), so
// a symlink swapped in after this check cannot redirect a mount (CVE-2021-30465).
import { lstatSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { IsolaError } from '@isola/errors';

const MAX_LINKS = 255;

/** The host path of `path` inside `root`, with symlinks resolved within root. Missing tails are kept as is. */
export function secureJoin(root: string, path: string): string {
  const pending = path.split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = posix.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(host).isSymbolicLink();
    } catch {
      // does not exist (yet): keep the name
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new IsolaError('ELOOP', `${posix.join('/', ...resolved, part)} in ${root}: too many levels of symbolic links`);
    const target = readlinkSync(host);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return posix.join(root, ...resolved);
}

/** Creates a mount point inside root (a directory, or an empty file for file bind mounts). */
export function createMountPoint(root: string, path: string, kind: 'dir' | 'file'): string {
  const host = secureJoin(root, path);
  try {
    const stat = lstatSync(host);
    if (kind === 'dir' && !stat.isDirectory()) throw new IsolaError('ENOTDIR', `mount point ${path} in ${root} exists and is not a directory`);
    return host;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // `host` is resolved: what is missing of it are plain names inside root, safe to create as directories.
  if (kind === 'dir') mkdirSync(host, { recursive: true, mode: 0o755 });
  else {
    mkdirSync(posix.dirname(host), { recursive: true, mode: 0o755 });
    writeFileSync(host, '', { mode: 0o644, flag: 'wx' });
  }
  return host;
}
