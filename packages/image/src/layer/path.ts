// Lexical rules for the names inside a layer, applied before any filesystem is touched. A layer path
// is relative to the rootfs, '/'-separated, without '.', '..' or empty components; '' is the rootfs
// itself. Symlinks are a separate matter, handled at write time by rootfs/resolve.ts.
import { entryError } from '../errors.js';

/**
 * Normalizes a tar entry name or hard link target. A leading '/' is dropped, as GNU tar, Docker and
 * containerd do: the OCI spec calls entry names relative, so '/etc/passwd' means the rootfs's
 * etc/passwd. A '..' that climbs above the rootfs is refused rather than clamped, because no honest
 * layer producer writes one, and clamping would silently write somewhere the archive did not say.
 */
export function normalizeLayerPath(name: string, entry: string, what = 'path'): string {
  if (name.includes('\0')) throw entryError('ELAYER_PATH', entry, `${what} contains a NUL byte`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw entryError('ELAYER_PATH', entry, `${what} ${JSON.stringify(name)} climbs out of the rootfs`);
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts.join('/');
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinLayerPath(parent: string, base: string): string {
  return parent === '' ? base : `${parent}/${base}`;
}

/** Every proper ancestor of `path`, nearest first, ending with '' (the rootfs). */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let p = path; p !== ''; ) {
    p = parentOf(p);
    out.push(p);
  }
  return out;
}
