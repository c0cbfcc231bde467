// Resolves a layer path to where it really lives inside a rootfs on the host, following symlinks the
// way the container will see them: an absolute target restarts at the rootfs, and '..' at the rootfs
// stays there. This is filepath-securejoin's algorithm (used by umoci, runc, containerd's
// fs.RootPath): no symlink, whatever it says, can lead a write outside `root`.
//
// It defends against the archive, not against a concurrent process swapping directories under us
// between the lstat and the write; that needs openat2(RESOLVE_IN_ROOT), which a later @isola/sys
// binding can provide behind the same interface.
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerError, errnoCode } from '../errors.js';

/** Linux's own limit (MAXSYMLINKS is 40 per lookup; securejoin allows 255 over a whole path). */
const MAX_SYMLINKS = 255;

export class RootResolver {
  /**
   * Layer path → resolved layer path, for directories that existed when resolved. The writer calls
   * `forget` whenever it removes something or creates a symlink, the only changes that can make a
   * cached answer wrong.
   */
  private readonly cache = new Map<string, string>();

  /** `root` with one trailing slash. */
  private readonly prefix: string;

  constructor(readonly root: string) {
    this.prefix = root.endsWith('/') ? root : `${root}/`;
  }

  /**
   * The host path of a (resolved) layer path. Layer paths are normalized (no '', '.' or '..'
   * components), so concatenation gives what path.join would, without its per-call normalization
   * (several calls per entry, visible in unpack profiles).
   */
  host(path: string): string {
    return path === '' ? this.root : this.prefix + path;
  }

  forget(): void {
    this.cache.clear();
  }

  /**
   * `path` with every symlink in it resolved within the rootfs. Components that do not exist (yet)
   * are kept as written; the result is a normalized layer path ('' is the rootfs).
   */
  async resolve(path: string): Promise<string> {
    const cached = this.cache.get(path);
    if (cached !== undefined) return cached;

    const resolved: string[] = [];
    const pending = path.split('/').reverse();
    let links = 0;
    let missing = false;
    while (pending.length > 0) {
      const part = pending.pop()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      resolved.push(part);
      if (missing) continue;

      const host = join(this.root, ...resolved);
      let isLink = false;
      try {
        const stat = await lstat(host);
        isLink = stat.isSymbolicLink();
        // Below a non-directory nothing can exist; the write that follows reports ENOTDIR.
        if (!isLink && !stat.isDirectory()) missing = true;
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') throw error;
        missing = true;
      }
      if (!isLink) continue;

      if (++links > MAX_SYMLINKS) {
        throw new LayerError('ELAYER_PATH', `resolve "${path}" in the rootfs: more than ${MAX_SYMLINKS} symlinks (a loop?)`, {
          details: { path },
        });
      }
      const target = await readlink(host);
      resolved.pop();
      if (target.startsWith('/')) resolved.length = 0;
      pending.push(...target.split('/').reverse());
    }

    const result = resolved.join('/');
    if (!missing) this.cache.set(path, result);
    return result;
  }

  /**
   * The path an entry names, with its parent resolved but its last component left alone: an entry
   * replaces whatever is there, a symlink included, and never writes through it.
   */
  async resolveEntry(path: string): Promise<string> {
    if (path === '') return '';
    const slash = path.lastIndexOf('/');
    if (slash === -1) return path;
    const parent = await this.resolve(path.slice(0, slash));
    const base = path.slice(slash + 1);
    return parent === '' ? base : `${parent}/${base}`;
  }
}
